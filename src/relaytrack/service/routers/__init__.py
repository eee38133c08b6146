"""One router per resource; each depends on `relaytrack.service.deps.need(action)` or calls a library
function that authorises itself."""
