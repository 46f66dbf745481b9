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

// kinesalite rethrows an error of any request (index.js: req.on('error', err => { throw err })), so a client that
// closes its connection mid-request (a timed-out SDK call, a poller stopped while it reads) would end the process
// and every stream in it. Such an error belongs to that request alone: log it and go on serving; anything else is
// still fatal.
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED'])
process.on('uncaughtException', (err) => {
  if (err && (CLIENT_GONE.has(err.code) || err.message === 'aborted')) {
    console.error('kinesalite: a client dropped its request (%s); still serving', err.code || err.message)
    return
  }
  console.error(err)
  process.exit(1)
})

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
