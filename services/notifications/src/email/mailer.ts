// Email out through SMTP with nodemailer; the transport follows `smtp.*` in config as it changes.
import nodemailer from 'nodemailer';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
}

/** Resolves once the mail server accepted the message; rejects when it did not. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
  close(): Promise<void> | void;
}

export interface SmtpSettings {
  /** e.g. `smtp://127.0.0.1:2525`, `smtps://user:pass@mail.example.com`. */
  url: string;
  from: string;
  timeoutMs: number;
}

export function createSmtpMailer(settings: SmtpSettings): Mailer {
  const transport = nodemailer.createTransport(
    {
      url: settings.url,
      pool: true,
      maxConnections: 2,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
    },
    { from: settings.from },
  );
  return {
    async send(email) {
      await transport.sendMail({ to: email.to, subject: email.subject, text: email.text });
    },
    close() {
      transport.close();
    },
  };
}

/**
 * The mailer for the current settings, rebuilt when they change (hot-reloaded config); undefined while no SMTP
 * server is configured.
 */
export class ConfiguredMailer {
  readonly #settings: () => SmtpSettings | undefined;
  #current: { key: string; mailer: Mailer } | undefined;

  constructor(settings: () => SmtpSettings | undefined) {
    this.#settings = settings;
  }

  current(): Mailer | undefined {
    const settings = this.#settings();
    const key = settings === undefined ? undefined : JSON.stringify(settings);
    if (key === this.#current?.key) return this.#current?.mailer;
    const previous = this.#current?.mailer;
    // An email still in flight on the old server fails, is logged, and its retry takes the new one.
    if (previous !== undefined) void Promise.resolve(previous.close()).catch(() => {});
    this.#current =
      settings === undefined || key === undefined ? undefined : { key, mailer: createSmtpMailer(settings) };
    return this.#current?.mailer;
  }

  async close(): Promise<void> {
    await this.#current?.mailer.close();
    this.#current = undefined;
  }
}
