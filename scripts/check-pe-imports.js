'use strict'
// `node scripts/check-pe-imports.js FILE.node...`: the DLLs a Windows binary imports (its import
// and delay-load tables, read from the PE file itself: no dumpbin, no Visual Studio prompt), and a
// failure when one of them is the Visual C++ runtime (vcruntime*.dll, msvcp*.dll, msvcr*.dll,
// ucrtbase.dll, api-ms-win-crt-*.dll). .cargo/config.toml links the MSVC targets with +crt-static,
// so the .node loads on a Windows without the Visual C++ Redistributable; the hosted Windows image
// has that runtime installed, so only this check would notice a build that lost the flag (cargo
// ignores target rustflags when RUSTFLAGS is set). release.yml runs it after each Windows build.
// Exits 1 when a file imports the runtime or is not a PE image.

const fs = require('node:fs')
const path = require('node:path')

const MACHINES = { 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'x86' }
const VC_RUNTIME = /^(vcruntime\d*|msvcp\d*|msvcr\d*|ucrtbase|api-ms-win-crt-[a-z0-9-]*)\.dll$/i

/** The DLL names a PE image imports, with its machine. Throws on anything that is not one. */
function peImports(buffer) {
  const u16 = (at) => buffer.readUInt16LE(at)
  const u32 = (at) => buffer.readUInt32LE(at)
  if (buffer.length < 0x40 || u16(0) !== 0x5a4d) throw new Error('no MZ header: not a PE image')
  const pe = u32(0x3c)
  if (pe + 24 > buffer.length || u32(pe) !== 0x00004550) throw new Error('no PE signature')
  const coff = pe + 4
  const machine = u16(coff)
  const sectionCount = u16(coff + 2)
  const optionalSize = u16(coff + 16)
  const optional = coff + 20
  const magic = u16(optional)
  if (magic !== 0x10b && magic !== 0x20b) throw new Error(`unknown optional header magic 0x${magic.toString(16)}`)
  const directories = optional + (magic === 0x20b ? 112 : 96)
  const directoryCount = u32(directories - 4)
  const directory = (index) =>
    index < directoryCount ? { rva: u32(directories + index * 8), size: u32(directories + index * 8 + 4) } : null
  const sections = []
  for (let i = 0, at = optional + optionalSize; i < sectionCount; i++, at += 40) {
    sections.push({ va: u32(at + 12), virtualSize: u32(at + 8), rawSize: u32(at + 16), raw: u32(at + 20) })
  }
  const offset = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + Math.max(x.virtualSize, x.rawSize))
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`)
    return rva - s.va + s.raw
  }
  const cString = (rva) => {
    const start = offset(rva)
    return buffer.toString('latin1', start, buffer.indexOf(0, start))
  }
  const names = []
  // The import directory (1): 20-byte descriptors, the name's RVA at +12, ended by a zeroed one.
  const imports = directory(1)
  if (imports && imports.rva) {
    for (let at = offset(imports.rva); u32(at + 12) !== 0; at += 20) names.push(cString(u32(at + 12)))
  }
  // The delay-load directory (13): 32-byte descriptors, the name's RVA at +4.
  const delayed = directory(13)
  if (delayed && delayed.rva) {
    for (let at = offset(delayed.rva); u32(at + 4) !== 0; at += 32) names.push(cString(u32(at + 4)))
  }
  return { machine: MACHINES[machine] || `0x${machine.toString(16)}`, names }
}

function main(files) {
  if (files.length === 0) {
    console.error('usage: node scripts/check-pe-imports.js FILE.node...')
    return 2
  }
  let failed = 0
  for (const file of files) {
    const name = path.basename(file)
    let result
    try {
      result = peImports(fs.readFileSync(file))
    } catch (error) {
      console.log(`[check-pe-imports] FAIL ${name}: ${error.message}`)
      failed++
      continue
    }
    const runtime = result.names.filter((n) => VC_RUNTIME.test(n))
    const verdict = runtime.length ? `FAIL imports the Visual C++ runtime (${runtime.join(', ')})` : 'ok'
    console.log(
      `[check-pe-imports] ${name} (${result.machine}): imports ${result.names.join(', ') || 'nothing'}: ${verdict}`,
    )
    if (runtime.length) failed++
  }
  console.log(`check-pe-imports: ${files.length - failed} passed, ${failed} failed`)
  return failed ? 1 : 0
}

if (require.main === module) process.exitCode = main(process.argv.slice(2))

module.exports = { peImports }
