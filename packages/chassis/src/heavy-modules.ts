// Client libraries that only the distributed profile uses, loaded on first use: etcd3 (with gRPC and protobufjs)
// adds about 35 MB to a process and amqplib about 11 MB, which every service of the local profile would pay
// for nothing if they were imported up front.
import { createRequire } from 'node:module';
import type * as Amqplib from 'amqplib';
import type * as Etcd3 from 'etcd3';

const load = createRequire(import.meta.url);

export const etcd3 = (): typeof Etcd3 => load('etcd3') as typeof Etcd3;
export const amqplib = (): typeof Amqplib => load('amqplib') as typeof Amqplib;
