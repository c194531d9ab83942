// Emails compare case-insensitively and without surrounding space.
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();
