const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A canonical UUID, the only form the services' uuid columns take. */
export const isUuid = (value: string): boolean => UUID.test(value);
