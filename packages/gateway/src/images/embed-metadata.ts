/**
 * Writes a job's prompt and parameters into an image's own bytes, so a downloaded file says how
 * it was made. Only metadata containers are added: the compressed pixel data is copied as is
 * (no re-encode, so no quality lost and little CPU). Every format carries the same XMP packet
 * (dc:description = the prompt, xmp:CreatorTool, one `zimage:` property per parameter):
 * - PNG: iTXt chunks before the image data (IDAT): `parameters` (the prompt, then `name: value, …`, the key
 *   Automatic1111 and ComfyUI readers look for), `Description`, `Software`, and
 *   `XML:com.adobe.xmp`;
 * - JPEG: an APP1 XMP segment after SOI (and after a JFIF APP0 or Exif APP1 there);
 * - WebP: an `XMP ` chunk, turning a simple (VP8/VP8L) file into an extended one (VP8X).
 * An XMP packet the file had already is replaced. Input this cannot walk is returned as it is.
 */
import { crc32 } from 'node:zlib';

export interface ImageMetadata {
  prompt: string;
  /** In order; names are XML names (`[A-Za-z][A-Za-z0-9]*`). */
  parameters: ReadonlyArray<readonly [name: string, value: string | number | boolean]>;
  software: string;
}

export type EmbedResult =
  | { embedded: true; bytes: Buffer }
  | { embedded: false; bytes: Buffer; reason: string };

/** Why the bytes cannot take the metadata; the caller keeps them unchanged. */
class Unembeddable extends Error {}

export function embedMetadata(bytes: Buffer, metadata: ImageMetadata): EmbedResult {
  const xmp = Buffer.from(xmpPacket(metadata), 'utf8');
  try {
    if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) {
      return { embedded: true, bytes: embedPng(bytes, metadata, xmp) };
    }
    if (bytes[0] === 0xff && bytes[1] === 0xd8) {
      return { embedded: true, bytes: embedJpeg(bytes, xmp) };
    }
    if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') {
      return { embedded: true, bytes: embedWebp(bytes, xmp) };
    }
    throw new Unembeddable('not a PNG, JPEG or WebP file');
  } catch (error) {
    // A RangeError is a read or write out of bounds that a check above missed: bad input too.
    if (!(error instanceof Unembeddable || error instanceof RangeError)) throw error;
    return { embedded: false, bytes, reason: error.message };
  }
}

// XMP

const ZIMAGE_NAMESPACE = 'urn:zimage:1.0/';
const XML_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** What XML 1.0 forbids in a document: most C0 controls, U+FFFE/U+FFFF, lone surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const NOT_XML_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|\p{Cs}/gu;

/** Text as XML character data or attribute value; characters XML 1.0 forbids become U+FFFD. */
function escapeXml(text: string): string {
  const allowed = text.replace(NOT_XML_CHARACTER, '\ufffd');
  return allowed.replace(/[&<>"'\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function xmpPacket({ prompt, parameters, software }: ImageMetadata): string {
  const properties = parameters.map(([name, value]) => {
    if (!XML_NAME.test(name)) throw new Error(`Not an XML name: ${JSON.stringify(name)}`);
    return `   <zimage:${name}>${escapeXml(String(value))}</zimage:${name}>\n`;
  });
  return (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' +
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n' +
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n' +
    '  <rdf:Description rdf:about=""\n' +
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n' +
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n' +
    `    xmlns:zimage="${ZIMAGE_NAMESPACE}">\n` +
    `   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(prompt)}</rdf:li></rdf:Alt></dc:description>\n` +
    `   <xmp:CreatorTool>${escapeXml(software)}</xmp:CreatorTool>\n` +
    properties.join('') +
    '  </rdf:Description>\n' +
    ' </rdf:RDF>\n' +
    '</x:xmpmeta>\n' +
    '<?xpacket end="r"?>'
  );
}

// PNG: 8-byte signature, then chunks of length (4, big-endian), type (4), data, CRC-32 of
// type and data (4); IEND last.

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_XMP_KEYWORD = 'XML:com.adobe.xmp';

/** An iTXt chunk: keyword, no compression, no language, UTF-8 text. */
function iTXt(keyword: string, text: Buffer | string): Buffer {
  const data = Buffer.concat([
    Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'),
    typeof text === 'string' ? Buffer.from(text, 'utf8') : text,
  ]);
  const typeAndData = Buffer.concat([Buffer.from('iTXt', 'latin1'), data]);
  const chunk = Buffer.alloc(8 + data.length + 4);
  chunk.writeUInt32BE(data.length, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), 8 + data.length);
  return chunk;
}

function embedPng(bytes: Buffer, metadata: ImageMetadata, xmp: Buffer): Buffer {
  const chunks: { type: string; whole: Buffer; isXmp: boolean }[] = [];
  for (let offset = PNG_SIGNATURE.length; chunks.at(-1)?.type !== 'IEND'; ) {
    if (offset + 12 > bytes.length) throw new Unembeddable('PNG ends before IEND');
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) throw new Unembeddable(`PNG chunk ${type} runs past the end`);
    const keyword = bytes.toString('latin1', offset + 8, offset + 9 + PNG_XMP_KEYWORD.length);
    const isXmp = type === 'iTXt' && keyword === `${PNG_XMP_KEYWORD}\0`;
    chunks.push({ type, whole: bytes.subarray(offset, end), isXmp });
    offset = end;
  }
  if (chunks[0]?.type !== 'IHDR') throw new Unembeddable('PNG does not start with IHDR');
  // Before the image data: readers such as libvips look at the chunks before IDAT only.
  const at = chunks.findIndex((chunk) => chunk.type === 'IDAT');
  if (at === -1) throw new Unembeddable('PNG without IDAT');
  const { prompt, parameters, software } = metadata;
  const line = parameters.map(([name, value]) => `${name}: ${value}`).join(', ');
  const kept = (from: number, to?: number) =>
    chunks.slice(from, to).flatMap((chunk) => (chunk.isXmp ? [] : [chunk.whole]));
  return Buffer.concat([
    PNG_SIGNATURE,
    ...kept(0, at),
    iTXt('parameters', `${prompt}\n${line}`),
    iTXt('Description', prompt),
    iTXt('Software', software),
    iTXt(PNG_XMP_KEYWORD, xmp),
    ...kept(at),
  ]);
}

// JPEG: SOI (FFD8), then marker segments FFxx with a 2-byte big-endian length that counts
// itself; the entropy-coded data follows SOS (FFDA).

const JPEG_XMP_HEADER = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
const JPEG_SEGMENT_MAX = 0xffff - 2;

function embedJpeg(bytes: Buffer, xmp: Buffer): Buffer {
  const payload = Buffer.concat([JPEG_XMP_HEADER, xmp]);
  if (payload.length > JPEG_SEGMENT_MAX) {
    throw new Unembeddable(`XMP packet of ${xmp.length} bytes exceeds one JPEG segment`);
  }
  const segment = Buffer.alloc(4 + payload.length);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(payload.length + 2, 2);
  payload.copy(segment, 4);

  const before: Buffer[] = [bytes.subarray(0, 2)];
  const after: Buffer[] = [];
  let offset = 2;
  for (;;) {
    if (offset + 4 > bytes.length || bytes[offset] !== 0xff) {
      throw new Unembeddable('JPEG segments end before SOS');
    }
    const marker = bytes[offset + 1] as number;
    const length = bytes.readUInt16BE(offset + 2);
    const end = offset + 2 + length;
    if (length < 2 || end > bytes.length) throw new Unembeddable('JPEG segment of a bad length');
    if (marker === 0xda) break;
    const body = bytes.subarray(offset + 4, end);
    const leading =
      after.length === 0 &&
      (isApp(marker, 0xe0, body, 'JFIF\0') || isApp(marker, 0xe1, body, 'Exif\0'));
    if (!isApp(marker, 0xe1, body, JPEG_XMP_HEADER.toString('latin1'))) {
      (leading ? before : after).push(bytes.subarray(offset, end));
    }
    offset = end;
  }
  return Buffer.concat([...before, segment, ...after, bytes.subarray(offset)]);
}

const isApp = (marker: number, app: number, body: Buffer, header: string) =>
  marker === app && body.toString('latin1', 0, header.length) === header;

// WebP: "RIFF", size (4, little-endian, of what follows), "WEBP", then chunks of FourCC, size
// (4, little-endian), data, and a pad byte when the size is odd.

const VP8X_XMP_FLAG = 0x04;
const VP8X_ALPHA_FLAG = 0x10;
/** Chunks that come before XMP in an extended file; unknown chunks come after. */
const BEFORE_XMP = new Set(['VP8X', 'ICCP', 'ANIM', 'ANMF', 'ALPH', 'VP8 ', 'VP8L', 'EXIF']);

function riffChunk(fourCc: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(8 + data.length + (data.length % 2));
  chunk.write(fourCc, 0, 'latin1');
  chunk.writeUInt32LE(data.length, 4);
  data.copy(chunk, 8);
  return chunk;
}

/** The VP8X chunk of a simple file: its canvas is its one frame. */
function vp8xFor(first: { fourCc: string; data: Buffer }): Buffer {
  const { fourCc, data } = first;
  let width: number;
  let height: number;
  let flags = 0;
  if (fourCc === 'VP8 ') {
    // A key frame: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
    if (data.length < 10 || data.readUIntBE(3, 3) !== 0x9d012a) {
      throw new Unembeddable('VP8 bitstream without a key frame header');
    }
    width = data.readUInt16LE(6) & 0x3fff;
    height = data.readUInt16LE(8) & 0x3fff;
    if (width === 0 || height === 0) throw new Unembeddable('VP8 frame without a size');
  } else if (fourCc === 'VP8L') {
    // Signature 2F, then width − 1 and height − 1 in 14 bits each, then the alpha hint.
    if (data.length < 5 || data[0] !== 0x2f)
      throw new Unembeddable('VP8L bitstream without a signature');
    const bits = data.readUInt32LE(1);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
    if (bits & (1 << 28)) flags |= VP8X_ALPHA_FLAG;
  } else {
    throw new Unembeddable(`WebP starts with an unknown chunk ${JSON.stringify(fourCc)}`);
  }
  const vp8x = Buffer.alloc(10);
  vp8x[0] = flags;
  vp8x.writeUIntLE(width - 1, 4, 3);
  vp8x.writeUIntLE(height - 1, 7, 3);
  return riffChunk('VP8X', vp8x);
}

function embedWebp(bytes: Buffer, xmp: Buffer): Buffer {
  const riffEnd = 8 + bytes.readUInt32LE(4);
  if (riffEnd > bytes.length) throw new Unembeddable('WebP RIFF size exceeds the file');
  const chunks: { fourCc: string; data: Buffer; whole: Buffer }[] = [];
  for (let offset = 12; offset < riffEnd; ) {
    if (offset + 8 > riffEnd) throw new Unembeddable('WebP chunk header runs past the RIFF end');
    const size = bytes.readUInt32LE(offset + 4);
    const end = offset + 8 + size + (size % 2);
    if (end > riffEnd) throw new Unembeddable('WebP chunk runs past the RIFF end');
    chunks.push({
      fourCc: bytes.toString('latin1', offset, offset + 4),
      data: bytes.subarray(offset + 8, offset + 8 + size),
      whole: bytes.subarray(offset, end),
    });
    offset = end;
  }
  const [first] = chunks;
  if (first === undefined) throw new Unembeddable('WebP without chunks');
  const extended = first.fourCc === 'VP8X';
  if (extended && first.data.length < 10) throw new Unembeddable('VP8X chunk too short');
  const head = extended ? Buffer.from(first.whole) : vp8xFor(first);
  head[8] = (head[8] as number) | VP8X_XMP_FLAG;
  const rest = chunks.slice(extended ? 1 : 0).filter((chunk) => chunk.fourCc !== 'XMP ');
  const at = rest.findIndex((chunk) => !BEFORE_XMP.has(chunk.fourCc));
  const split = at === -1 ? rest.length : at;
  const body = Buffer.concat([
    Buffer.from('WEBP', 'latin1'),
    head,
    ...rest.slice(0, split).map((chunk) => chunk.whole),
    riffChunk('XMP ', xmp),
    ...rest.slice(split).map((chunk) => chunk.whole),
  ]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length, 4);
  // Bytes after the RIFF end (rare, but tolerated by readers) are kept.
  return Buffer.concat([header, body, bytes.subarray(riffEnd)]);
}
