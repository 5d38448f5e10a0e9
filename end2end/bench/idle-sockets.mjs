// Opens N idle authenticated sockets (hello, resume, resumed) as the demo customer and holds
// them until killed, for a heap profile of the server (docs/BENCHMARKS.md):
//   node --experimental-websocket end2end/bench/idle-sockets.mjs http://127.0.0.1:PORT 5000
const [base, n] = [process.argv[2], Number(process.argv[3] || 5000)];
const login = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'alice@ordercast.test', password: 'ordercast' }) });
const { token } = await login.json();
const wsUrl = base.replace('http', 'ws') + '/ws';
const open = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(`${wsUrl}?token=${token}`);
  ws.onmessage = (m) => {
    const v = JSON.parse(m.data);
    if (v.type === 'hello') ws.send(JSON.stringify({ type: 'resume', last_seq: null, topics: [] }));
    if (v.type === 'resumed') { ws.onmessage = null; resolve(ws); }
  };
  ws.onerror = reject;
});
const sockets = [];
for (let i = 0; i < n; i += 200) {
  sockets.push(...await Promise.all(Array.from({ length: Math.min(200, n - i) }, open)));
}
console.log(`ready ${sockets.length}`);
setInterval(() => {}, 1 << 30);
