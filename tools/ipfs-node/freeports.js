// Print N free TCP ports on 127.0.0.1, one per line (all held open until
// every one is chosen, so they are distinct).
// usage: node freeports.js N [PREFERRED...]: the N preferred ports when every
// one of them is free (a restart keeps its addresses), else N new ones.
'use strict'
const net = require('net')
const n = Number(process.argv[2] || 1)
const preferred = process.argv.slice(3).map(Number).filter((p) => p > 0)

function listen (port) {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(null))
    s.listen(port, '127.0.0.1', () => resolve(s))
  })
}

async function main () {
  let servers = []
  if (preferred.length === n) {
    servers = await Promise.all(preferred.map(listen))
    if (servers.some((s) => s === null)) {
      servers.forEach((s) => s && s.close())
      servers = []
    }
  }
  if (servers.length === 0) servers = await Promise.all(Array.from({ length: n }, () => listen(0)))
  console.log(servers.map((x) => x.address().port).join('\n'))
  servers.forEach((x) => x.close())
}

main()
