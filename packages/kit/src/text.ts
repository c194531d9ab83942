// Text a service can store and pass on: PostgreSQL refuses NUL in text, and an unpaired UTF-16 surrogate has no
// UTF-8 form, so neither survives a database or the message bus.

/** Whether `text` has no NUL and no unpaired surrogate. */
export const isStorableText = (text: string): boolean => !text.includes('\u0000') && text.isWellFormed();
