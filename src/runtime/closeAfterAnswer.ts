import type http from 'node:http';

/** How long a refused request's connection may go on sending after its answer, read and dropped. */
const LINGER_MS = 2_000;

/**
 * Closes the connection of a request answered before its body was read, once the answer is out.
 * Not at once: closing a socket with bytes unread makes the kernel reset the connection, and a
 * reset drops the answer at a client that has not read it yet (a browser says "failed to fetch",
 * curl "connection reset", instead of showing the 413), which is what Node's own close of an answer
 * marked `connection: close` does (`destroySoon`: the socket destroyed once the answer is written).
 * Here the answer is followed by a half-close, what the client still sends is read and dropped
 * (nothing is kept), and the socket goes when the client closes its side or after LINGER_MS,
 * whatever the client does.
 */
export function closeAfterAnswer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
  };
  res.once('finish', () => {
    req.unpipe();
    req.resume();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}
