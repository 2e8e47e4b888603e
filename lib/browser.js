'use strict'
// What browser bundles get instead of the package (`exports` "browser" condition and the legacy
// `browser` field): an error at evaluation, so keys never ship to a page.
const { serverOnlyError } = require('./guard')

throw serverOnlyError('a browser bundle (it was bundled for the browser)')
