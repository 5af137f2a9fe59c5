/**
 * A minimal WebSocket client over node:net, for the load clients: the handshake, text frames
 * out (masked, as clients must), text frames in, ping → pong and close. Receiving a message is
 * a few header reads and a slice, so thousands of sockets in one client process cost little
 * CPU, which on a 2-core machine would otherwise be taken from the server being measured.
 * Not a general client: no fragmentation, no extensions, no binary messages.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;

export interface LeanWebSocketHandlers {
  open(): void;
  /** A text message; `at` is when its last bytes arrived (wall clock ms). */
  message(data: Buffer, at: number): void;
  close(code: number, reason: string): void;
  error(error: Error): void;
}

/** A client frame: FIN, the opcode, MASK with an all-zero key (the payload stays as it is). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.alloc(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | length;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, header + 4);
  return frame;
}

export class LeanWebSocket {
  readonly #socket: Socket;
  readonly #handlers: LeanWebSocketHandlers;
  #open = false;
  #closed = false;
  #pending: Buffer | null = null;

  constructor(url: string, protocol: string, handlers: LeanWebSocketHandlers) {
    this.#handlers = handlers;
    const { hostname, port, pathname } = new URL(url);
    const key = randomBytes(16).toString('base64');
    this.#socket = connect(Number(port), hostname, () => {
      this.#socket.write(
        `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
      );
    });
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (chunk: Buffer) =>
      this.#receive(chunk, performance.timeOrigin + performance.now()),
    );
    this.#socket.on('error', (error) => {
      if (!this.#closed) this.#handlers.error(error);
    });
    this.#socket.on('close', () => this.#ended(1006, 'connection lost'));
  }

  get isOpen(): boolean {
    return this.#open && !this.#closed;
  }

  send(text: string): void {
    if (this.isOpen) this.#socket.write(clientFrame(OPCODE_TEXT, Buffer.from(text)));
  }

  close(code = 1000): void {
    if (!this.isOpen) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.#socket.end(clientFrame(OPCODE_CLOSE, payload));
  }

  terminate(): void {
    this.#socket.destroy();
  }

  #ended(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#handlers.close(code, reason);
  }

  #receive(chunk: Buffer, at: number): void {
    let data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = null;
    if (!this.#open) {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) {
        this.#pending = data;
        return;
      }
      const head = data.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) {
        this.#handlers.error(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
        this.#socket.destroy();
        return;
      }
      this.#open = true;
      this.#handlers.open();
      data = data.subarray(end + 4);
    }
    let offset = 0;
    while (data.length - offset >= 2) {
      const opcode = (data[offset] as number) & 0x0f;
      let length = (data[offset + 1] as number) & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        start = offset + 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        start = offset + 10;
      }
      if (data.length < start + length) break;
      const payload = data.subarray(start, start + length);
      offset = start + length;
      if (opcode === OPCODE_TEXT) this.#handlers.message(payload, at);
      else if (opcode === OPCODE_PING) this.#socket.write(clientFrame(OPCODE_PONG, payload));
      else if (opcode === OPCODE_CLOSE) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.#ended(code, payload.subarray(2).toString());
        return;
      }
    }
    if (offset < data.length) this.#pending = Buffer.from(data.subarray(offset));
  }
}
