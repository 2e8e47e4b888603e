'use strict'
// Certificate material for the mock vendor server: a throw-away CA plus a
// leaf (server) certificate signed by it, generated in memory at every start.
//
// Why two certificates: rustls (the client inside vendor-auth) refuses a
// certificate with basicConstraints CA:TRUE as a server's end-entity
// certificate, so the server presents a CA:FALSE leaf and tests trust the CA.
// No private key is ever written to disk and nothing is cached across calls.

const { webcrypto } = require('node:crypto')
const net = require('node:net')

const CA_SUBJECT = 'CN=vendor-auth mock CA'
const LEAF_SUBJECT = 'CN=vendor-auth mock server'
const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const HOUR_MS = 3600 * 1000
const DAY_MS = 24 * HOUR_MS

let x509Module = null

/** The optional peer dependencies certificates are made with, in load order. */
const PEERS = ['reflect-metadata', '@peculiar/x509']

/**
 * Loads @peculiar/x509 once. Its dependency tsyringe needs the `reflect-metadata` polyfill
 * (the package it documents for this), so that is loaded first. When either is not installed
 * (they are optional peer dependencies of vendor-auth), the error says which to install.
 */
function loadX509() {
  if (x509Module) return x509Module
  const missing = PEERS.filter((name) => !resolvable(name))
  if (missing.length > 0) {
    const error = new Error(
      `vendor-auth/testing needs its optional peer ${missing.length > 1 ? 'dependencies' : 'dependency'} ` +
        `${missing.join(' and ')} to make the mock's certificates, and ${missing.length > 1 ? 'they are' : 'it is'} ` +
        `not installed: npm install --save-dev ${PEERS.join(' ')}`,
    )
    error.code = 'MODULE_NOT_FOUND'
    throw error
  }
  require('reflect-metadata')
  x509Module = require('@peculiar/x509')
  return x509Module
}

function resolvable(name) {
  try {
    require.resolve(name)
    return true
  } catch {
    return false
  }
}

/** Subject-alternative-name entries for the leaf: loopback plus `host`. */
function subjectAltNames(host) {
  const names = [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'dns', value: 'localhost' },
  ]
  if (host && host !== '127.0.0.1' && host !== 'localhost') {
    names.push({ type: net.isIP(host) ? 'ip' : 'dns', value: host })
  }
  return names
}

async function generateKeyPair() {
  // Extractable so the leaf's private key can be handed to node:tls (in memory).
  return webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])
}

async function createCaCertificate(x509, keys, validity) {
  return x509.X509CertificateGenerator.createSelfSigned(
    {
      name: CA_SUBJECT,
      keys,
      signingAlgorithm: EC_ALGORITHM,
      ...validity,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  )
}

async function createLeafCertificate(x509, { caCert, caKeys, leafKeys, validity, host }) {
  return x509.X509CertificateGenerator.create(
    {
      subject: LEAF_SUBJECT,
      issuer: caCert.subject,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: EC_ALGORITHM,
      ...validity,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(subjectAltNames(host), false),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  )
}

/** PKCS#8 PEM of a private CryptoKey (kept in memory only). */
async function privateKeyPem(key) {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)
    .join('\n')
  return `-----BEGIN PRIVATE KEY-----\n${lines}\n-----END PRIVATE KEY-----\n`
}

/**
 * Generates a fresh CA and a leaf certificate for `host`.
 * @param {{ host?: string }} [options]
 * @returns {Promise<{ caCert: string, cert: string, key: string }>} PEM strings:
 *   the CA certificate (to trust), the leaf certificate and its private key
 *   (for the TLS server).
 */
async function createCertificates({ host } = {}) {
  const x509 = loadX509()
  const now = Date.now()
  const validity = { notBefore: new Date(now - HOUR_MS), notAfter: new Date(now + 2 * DAY_MS) }
  const caKeys = await generateKeyPair()
  const leafKeys = await generateKeyPair()
  const caCert = await createCaCertificate(x509, caKeys, validity)
  const leafCert = await createLeafCertificate(x509, { caCert, caKeys, leafKeys, validity, host })
  return {
    caCert: caCert.toString('pem'),
    cert: leafCert.toString('pem'),
    key: await privateKeyPem(leafKeys.privateKey),
  }
}

module.exports = { createCertificates, CA_SUBJECT }
