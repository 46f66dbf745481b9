// Runs kinesalite on 127.0.0.1 and exits as soon as the JVM that started it is gone, even after kill -9.
// Usage: node kinesalite-supervised.js <parentPid> <kinesalitePackageDir> --port P [--createStreamMs N ...]
'use strict'
const path = require('path')

const [parentPid, packageDir, ...flags] = process.argv.slice(2)
const parent = Number(parentPid)
const startedBy = process.ppid

function parentIsGone() {
  if (process.ppid !== startedBy) return true
  try {
    process.kill(parent, 0)
    return false
  } catch (e) {
    return e.code === 'ESRCH'
  }
}
setInterval(() => { if (parentIsGone()) process.exit(0) }, 250)

const options = {}
for (let i = 0; i < flags.length; i += 2) {
  const value = flags[i + 1]
  options[flags[i].replace(/^--/, '')] = /^\d+$/.test(value) ? Number(value) : value
}
const port = options.port
delete options.port

const server = require(path.join(packageDir, 'index.js'))(options).listen(port, '127.0.0.1', () => {
  const address = server.address()
  console.log('Listening at http://%s:%s', address.address, address.port)
})
