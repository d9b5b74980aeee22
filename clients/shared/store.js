// Web storage that never throws (private browsing, storage disabled): JSON in, JSON out.

export function load(storage, key, fallback = null) {
  try {
    const raw = storage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

export function save(storage, key, value) {
  try {
    if (value === null || value === undefined) storage.removeItem(key);
    else storage.setItem(key, JSON.stringify(value));
  } catch {
    // Not fatal: the page works, it just forgets on reload.
  }
}
