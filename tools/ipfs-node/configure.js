// Write the node's config: the template with the chosen ports, merged over an
// existing repo config (so a restart can move to new free ports).
// usage: node configure.js TEMPLATE OUT_CONFIG API_PORT GATEWAY_PORT SWARM_PORT RPC_PORT
'use strict'
const fs = require('fs')
const [template, out, api, gateway, swarm, rpc] = process.argv.slice(2)
const text = fs.readFileSync(template, 'utf8')
  .replaceAll('@API_PORT@', api)
  .replaceAll('@GATEWAY_PORT@', gateway)
  .replaceAll('@SWARM_PORT@', swarm)
  .replaceAll('@RPC_PORT@', rpc)
const wanted = JSON.parse(text)
let config = {}
if (fs.existsSync(out)) config = JSON.parse(fs.readFileSync(out, 'utf8'))
for (const [key, value] of Object.entries(wanted)) {
  const isObject = value && typeof value === 'object' && !Array.isArray(value)
  config[key] = isObject ? { ...(config[key] || {}), ...value } : value
}
fs.writeFileSync(out, JSON.stringify(config, null, 2))
