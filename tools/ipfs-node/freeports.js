// Print N free TCP ports on 127.0.0.1, one per line (all held open until
// every one is chosen, so they are distinct).
'use strict'
const net = require('net')
const n = Number(process.argv[2] || 1)
const servers = []
let done = 0
for (let i = 0; i < n; i++) {
  const s = net.createServer()
  servers.push(s)
  s.listen(0, '127.0.0.1', () => {
    if (++done === n) {
      console.log(servers.map((x) => x.address().port).join('\n'))
      servers.forEach((x) => x.close())
    }
  })
}
