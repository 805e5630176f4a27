/**
 * A WebSocket that comes back: exponential back-off with jitter (0.5 s doubling to 10 s), reset after a connection
 * that stayed up. The caller re-subscribes in onOpen, because subscriptions live and die with a connection.
 */

export type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ReconnectingSocketOptions {
  url: () => string;
  onOpen: (socket: WebSocket) => void;
  onMessage: (event: MessageEvent) => void;
  onState: (state: ConnectionState, detail: string) => void;
}

export function connectWithRetry(options: ReconnectingSocketOptions): { close(): void; reconnectNow(): void } {
  let delay = 500;
  let stopped = false;
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const open = () => {
    options.onState('connecting', 'connecting');
    const ws = new WebSocket(options.url());
    ws.binaryType = 'arraybuffer';
    socket = ws;
    let openedAt = 0;
    ws.onopen = () => {
      openedAt = Date.now();
      options.onState('open', 'connected');
      options.onOpen(ws);
    };
    ws.onmessage = options.onMessage;
    ws.onclose = (event) => {
      if (stopped) return;
      if (openedAt && Date.now() - openedAt > 10_000) delay = 500;
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      options.onState('closed', `disconnected${event.code ? ` (${event.code})` : ''}; retrying in ${(wait / 1000).toFixed(1)} s`);
      timer = setTimeout(open, wait);
      delay = Math.min(10_000, delay * 2);
    };
  };
  open();
  return {
    /** Something changed (a token was entered): retry at once instead of after the back-off. */
    reconnectNow() {
      if (stopped || socket?.readyState === WebSocket.OPEN) return;
      if (timer) clearTimeout(timer);
      if (socket) {
        // An attempt still connecting was made with the old settings: drop it quietly.
        socket.onclose = null;
        socket.close();
      }
      delay = 500;
      open();
    },
    close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
  };
}
