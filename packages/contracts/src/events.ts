// Event types, past tense. The envelope follows CloudEvents 1.0 (id, type, source, time, data).
export interface EventEnvelope<TType extends string = string, TData = unknown> {
  specversion: '1.0';
  id: string;
  type: TType;
  source: string;
  time: string;
  subject?: string;
  datacontenttype: 'application/json';
  traceparent?: string;
  data: TData;
}

export interface UserRegistered {
  userId: string;
  email: string;
  name: string;
}

export interface EventTypes {
  'user.registered': UserRegistered;
}
export type EventType = keyof EventTypes;
