'use strict'
// The client's events ('refresh', 'error'), with EventEmitter's on/once/off/removeAllListeners
// contract but none of its hazards: an 'error' with no listener is dropped (never thrown), and a
// listener that throws or rejects is reported to the debug logger, never to the caller or the
// process.

const { VendorAuthError } = require('./errors')

const EVENTS = ['refresh', 'error']

class Listeners {
  /** event → array of { listener, once } (replaced on change, so emit can iterate safely) */
  #byEvent = new Map()
  #report

  /** @param {(line: string) => void} report where listener failures are told */
  constructor(report) {
    this.#report = report
  }

  add(event, listener, once) {
    if (!EVENTS.includes(event)) {
      throw new VendorAuthError(
        'INVALID_OPTIONS',
        `unknown event '${String(event).slice(0, 40)}'; events: ${EVENTS.join(', ')}`,
      )
    }
    if (typeof listener !== 'function') {
      throw new VendorAuthError('INVALID_OPTIONS', `the '${event}' listener must be a function`)
    }
    this.#byEvent.set(event, [...(this.#byEvent.get(event) ?? []), { listener, once }])
  }

  remove(event, listener) {
    const entries = this.#byEvent.get(event)
    if (entries === undefined) return
    const index = entries.findIndex((e) => e.listener === listener)
    if (index !== -1) this.#byEvent.set(event, entries.toSpliced(index, 1))
  }

  /** Every listener of `event`, or of every event when it is undefined. */
  clear(event) {
    if (event === undefined) this.#byEvent.clear()
    else this.#byEvent.delete(event)
  }

  count(event) {
    return (this.#byEvent.get(event) ?? []).length
  }

  emit(event, value) {
    const entries = this.#byEvent.get(event)
    if (entries === undefined || entries.length === 0) return
    if (entries.some((e) => e.once))
      this.#byEvent.set(
        event,
        entries.filter((e) => !e.once),
      )
    for (const { listener } of entries) {
      try {
        const result = listener(value)
        if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
          result.then(undefined, (error) => this.#failed(event, error))
        }
      } catch (error) {
        this.#failed(event, error)
      }
    }
  }

  #failed(event, error) {
    const kind =
      error !== null && typeof error === 'object' && typeof error.name === 'string' ? error.name : typeof error
    this.#report(`the '${event}' listener failed (${kind}); ignored`)
  }
}

module.exports = { Listeners, EVENTS }
