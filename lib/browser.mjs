// ESM flavour of the browser entry: evaluating it throws SERVER_ONLY (see browser.js).
import './browser.js'
