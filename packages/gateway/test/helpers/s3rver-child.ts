/**
 * s3rver (a real S3-compatible server, the best that installs here) in a process of its own,
 * started by test/helpers/s3-server.ts with `--openssl-legacy-provider`: s3rver's
 * ListObjectsV2 continuation tokens use DES, which Node 24 refuses without it (every truncated
 * listing would answer 500). Prints `s3rver listening on <port>` once it listens.
 */
import S3rver from 's3rver';

const [directory] = process.argv.slice(2);
if (!directory) throw new Error('usage: s3rver-child.ts <directory>');
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
const { port } = await server.run();
process.stdout.write(`s3rver listening on ${port}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
