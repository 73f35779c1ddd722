// The search page: text, image and "more like this" queries, combined into one
// weighted query when there are several (POST /v1/search `parts`), with
// filters from GET /v1/info, page by page with the API's cursors.
// No framework and no build step: the worker serves this file as it is.

const PAGE_SIZE = 24; // at most 50 with metadata=all
const NEGATIVE_WEIGHT = -0.5;
const DEBOUNCE_MS = 250;

const $ = (id) => document.getElementById(id);
const input = $('q'), grid = $('grid'), status = $('status'), more = $('more'), results = $('results'), chips = $('chips'), fileInput = $('file');

/** The query: the text box, an image, a stored item ("more like this"), the filter fields' values. */
const query = { text: '', image: null, like: null };
let info = { filterable: [], limits: { maxImageBytes: 4 * 1024 * 1024 } };
let cursor = null;
let controller = null;
let debounce = 0;

// ---- requests ----------------------------------------------------------------------

/** "a red circle -star -blue" → positive text "a red circle", negatives ["star", "blue"]. */
function parseText(text) {
  const negatives = [], positive = [];
  for (const word of text.trim().split(/\s+/).filter(Boolean)) {
    if (word.length > 1 && word.startsWith('-')) negatives.push(word.slice(1));
    else if (word !== '-') positive.push(word);
  }
  return { positive: positive.join(' '), negatives };
}

function filterValue() {
  const filter = {};
  for (const { name, type } of info.filterable) {
    const field = (suffix) => document.querySelector(`[data-field="${CSS.escape(name)}"][data-part="${suffix}"]`);
    if (type === 'number') {
      const range = {};
      if (field('min').value !== '') range.$gte = Number(field('min').value);
      if (field('max').value !== '') range.$lte = Number(field('max').value);
      if (Object.keys(range).length) filter[name] = range;
    } else if (type === 'boolean') {
      if (field('eq').value) filter[name] = field('eq').value === 'true';
    } else if (field('eq').value.trim()) filter[name] = field('eq').value.trim();
  }
  return Object.keys(filter).length ? filter : undefined;
}

const dataUrl = (blob) => new Promise((resolve, reject) => {
  const reader = new FileReader();
  reader.onload = () => resolve(reader.result);
  reader.onerror = () => reject(reader.error);
  reader.readAsDataURL(blob);
});

/** The fetch for the current query: a plain GET for text alone (cacheable), a raw image POST, an id, or weighted parts. */
async function request(signal) {
  const { positive, negatives } = parseText(query.text);
  const filter = filterValue();
  const options = { k: PAGE_SIZE, metadata: 'all', ...(filter ? { filter } : {}), ...(cursor ? { cursor } : {}) };
  const parts = [
    ...(positive ? [{ text: positive, weight: 1 }] : []),
    ...negatives.map((text) => ({ text, weight: NEGATIVE_WEIGHT })),
    ...(query.image ? [{ image: query.image.file, weight: 1 }] : []),
    ...(query.like ? [{ id: query.like.id, weight: 1 }] : []),
  ];
  if (!parts.length) return null;
  const params = () => new URLSearchParams(Object.entries(options).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]));
  const [only] = parts;
  if (parts.length === 1 && only.weight > 0) {
    if ('text' in only) return fetch(`/v1/search?${new URLSearchParams({ q: only.text })}&${params()}`, { signal });
    if ('image' in only) return fetch(`/v1/search?${params()}`, { method: 'POST', body: only.image, headers: { 'content-type': only.image.type || 'image/jpeg' }, signal });
  }
  const body = parts.length === 1 && 'id' in only && only.weight > 0
    ? { id: only.id, ...options }
    : { parts: await Promise.all(parts.map(async (p) => ('image' in p ? { image: await dataUrl(p.image), weight: p.weight } : p))), ...options };
  return fetch('/v1/search', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal });
}

/** Runs the query: a fresh first page, or (`next`) the page after the last one. */
async function search({ next = false } = {}) {
  clearTimeout(debounce);
  controller?.abort();
  const mine = (controller = new AbortController());
  if (!next) cursor = null;
  renderChips();
  results.setAttribute('aria-busy', 'true');
  more.disabled = true;
  try {
    const response = await request(mine.signal);
    if (!response) return showEmpty();
    const body = await response.json().catch(() => null);
    if (mine !== controller) return;
    if (!response.ok) return showError(response, body, next);
    if (!next) grid.replaceChildren();
    const first = grid.children.length;
    for (const result of body.results) grid.append(card(result));
    cursor = body.nextCursor;
    more.hidden = !cursor;
    $('empty').hidden = grid.children.length > 0;
    if (!grid.children.length) $('empty').textContent = 'No matches. Try other words, or fewer filters.';
    showStatus(body, response);
    if (next) grid.children[first]?.querySelector('button')?.focus();
  } catch (error) {
    if (error.name === 'AbortError' || mine !== controller) return;
    setStatus('The search service cannot be reached. Check your connection and try again.', true);
  } finally {
    if (mine === controller) {
      results.removeAttribute('aria-busy');
      more.disabled = false;
    }
  }
}

function schedule() {
  clearTimeout(debounce);
  debounce = setTimeout(() => search(), DEBOUNCE_MS);
}

// ---- rendering -----------------------------------------------------------------------

function setStatus(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
  status.setAttribute('role', isError ? 'alert' : 'status');
  status.title = '';
}

function showEmpty() {
  grid.replaceChildren();
  more.hidden = true;
  $('empty').hidden = false;
  $('empty').textContent = 'Search for something: the collection is searched by meaning, in words or by an image.';
  setStatus('');
}

function showStatus(body, response) {
  const { embedMs, searchMs, totalMs } = body.timings;
  const count = grid.children.length;
  const cache = response.headers.get('x-cache') ?? body.cache;
  setStatus(`${count} result${count === 1 ? '' : 's'}${cursor ? ' so far' : ''} · cache ${cache} · ${Math.round(totalMs)} ms`);
  status.title = `worker ${Math.round(totalMs)} ms: embedding ${Math.round(embedMs)} ms, index ${Math.round(searchMs)} ms`;
}

function showError(response, body, next) {
  const code = body?.error?.code;
  const message = body?.error?.message ?? `HTTP ${response.status}`;
  if (next && code === 'paging_limit') {
    more.hidden = true;
    return setStatus('That is as deep as search goes. Narrow it with other words or a filter to see other matches.');
  }
  if (!next) {
    grid.replaceChildren();
    more.hidden = true;
    $('empty').hidden = true;
  }
  const retry = response.headers.get('retry-after');
  const texts = {
    embedder_unavailable: 'The embedder is down, so new queries cannot be understood right now. Queries searched before still work from the cache; try again shortly.',
    index_unavailable: 'The index is unavailable right now. Try again shortly.',
    rate_limited: `Too many searches from here. Try again${retry ? ` in ${retry} s` : ' shortly'}.`,
  };
  setStatus(texts[code] ?? `The search failed: ${message}`, true);
}

const thumbnailUrl = (result) => {
  const url = result.metadata?.url;
  return typeof url === 'string' && /^https?:\/\//.test(url) ? url : `/v1/items/${encodeURIComponent(result.id)}/thumbnail`;
};

const shown = (value) => (Array.isArray(value) ? value.join(', ') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));

function card(result) {
  const label = result.metadata?.caption ?? result.id;
  const item = document.createElement('li');
  item.className = 'card';
  item.dataset.id = result.id;
  const image = document.createElement('img');
  image.alt = label;
  image.loading = 'lazy';
  image.src = thumbnailUrl(result);
  image.addEventListener('error', () => {
    const placeholder = document.createElement('div');
    placeholder.className = 'placeholder';
    placeholder.textContent = label;
    image.replaceWith(placeholder);
  }, { once: true });
  const details = document.createElement('div');
  details.className = 'info';
  const list = document.createElement('dl');
  const { caption, labels, url, ...rest } = result.metadata ?? {};
  const entries = [['score', result.score.toFixed(3)], ['caption', caption], ['labels', labels], ['id', result.id], ...Object.entries(rest)];
  for (const [index, [key, value]] of entries.filter(([, value]) => value !== undefined).entries()) {
    const term = document.createElement('dt');
    term.textContent = key;
    const text = document.createElement('dd');
    text.textContent = shown(value);
    if (key === 'score') text.className = 'score';
    // On touch screens, where the details are always shown, only the first few.
    if (index > 2) term.className = text.className = 'extra';
    list.append(term, text);
  }
  const like = document.createElement('button');
  like.type = 'button';
  like.textContent = 'More like this';
  like.setAttribute('aria-label', `More like this: ${label} (score ${result.score.toFixed(3)})`);
  like.addEventListener('click', () => moreLike(result.id, label));
  details.append(list, like);
  item.append(image, details);
  return item;
}

function chip(text, remove, imageUrl) {
  const item = document.createElement('li');
  item.className = 'chip';
  if (imageUrl) {
    const image = document.createElement('img');
    image.src = imageUrl;
    image.alt = '';
    item.append(image);
  }
  const name = document.createElement('span');
  name.textContent = text;
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = '×';
  button.setAttribute('aria-label', `Remove ${text}`);
  button.addEventListener('click', () => {
    remove();
    input.focus();
    search();
  });
  item.append(name, button);
  return item;
}

function renderChips() {
  const items = [];
  if (query.image) items.push(chip(`image: ${query.image.file.name || 'pasted'}`, () => setImage(null), query.image.url));
  if (query.like) items.push(chip(`like: ${query.like.label}`, () => (query.like = null)));
  chips.replaceChildren(...items);
}

// ---- the query's parts -----------------------------------------------------------------

function setImage(file) {
  if (query.image) URL.revokeObjectURL(query.image.url);
  query.image = file ? { file, url: URL.createObjectURL(file) } : null;
}

function useImage(file) {
  if (!file) return;
  if (!file.type.startsWith('image/')) return setStatus(`${file.name} is not an image.`, true);
  if (file.size > info.limits.maxImageBytes) return setStatus(`That image is over ${Math.floor(info.limits.maxImageBytes / 1048576)} MB; choose a smaller one.`, true);
  setImage(file);
  query.like = null;
  search();
}

function moreLike(id, label) {
  query.like = { id, label };
  query.text = input.value = '';
  setImage(null);
  search();
  input.focus();
}

function renderFilters() {
  const fields = $('filter-fields');
  for (const { name, type } of info.filterable) {
    const label = document.createElement('label');
    label.append(name);
    const control = (part, tag = 'input', attributes = {}) => {
      const element = document.createElement(tag);
      Object.assign(element, attributes);
      element.dataset.field = name;
      element.dataset.part = part;
      element.addEventListener(tag === 'select' ? 'change' : 'input', schedule);
      return element;
    };
    if (type === 'number') {
      const range = document.createElement('span');
      range.className = 'range';
      range.append(control('min', 'input', { type: 'number', placeholder: 'from', ariaLabel: `${name} from` }), control('max', 'input', { type: 'number', placeholder: 'to', ariaLabel: `${name} to` }));
      label.append(range);
    } else if (type === 'boolean') {
      const select = control('eq', 'select');
      for (const [value, text] of [['', 'any'], ['true', 'yes'], ['false', 'no']]) select.append(new Option(text, value));
      label.append(select);
    } else label.append(control('eq', 'input', { type: 'text', placeholder: 'exactly' }));
    fields.append(label);
  }
  $('filters').hidden = info.filterable.length === 0;
}

async function loadInfo() {
  try {
    const response = await fetch('/v1/info');
    if (!response.ok) return;
    info = await response.json();
    const { model } = info;
    if (model?.notice) {
      $('notice').textContent = model.notice;
      $('notice').hidden = false;
    }
    $('model').textContent = model ? `Model: ${model.id}, ${model.dim} dimensions` : 'Model unknown (its embedder is unreachable)';
    renderFilters();
  } catch {
    // The page works without it: no banner, no filters.
  }
}

// ---- events --------------------------------------------------------------------------

input.addEventListener('input', () => {
  query.text = input.value;
  schedule();
});
$('search').addEventListener('submit', (event) => {
  event.preventDefault();
  query.text = input.value;
  search();
});
input.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  event.preventDefault();
  if (input.value) query.text = input.value = '';
  else {
    setImage(null);
    query.like = null;
  }
  search();
});
$('pick').addEventListener('click', () => fileInput.click());
fileInput.addEventListener('change', () => {
  useImage(fileInput.files[0]);
  fileInput.value = '';
});
more.addEventListener('click', () => search({ next: true }));
document.addEventListener('keydown', (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
  if (event.key === '/' && !typing) {
    event.preventDefault();
    input.focus();
  } else if (event.key === 'Escape' && results.contains(event.target)) input.focus();
});
document.addEventListener('paste', (event) => {
  const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
  if (file) {
    event.preventDefault();
    useImage(file);
  }
});
const drop = $('drop');
let dragDepth = 0;
document.addEventListener('dragenter', (event) => {
  if (![...event.dataTransfer.types].includes('Files')) return;
  dragDepth++;
  drop.hidden = false;
});
document.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) drop.hidden = true;
});
document.addEventListener('dragover', (event) => event.preventDefault());
document.addEventListener('drop', (event) => {
  event.preventDefault();
  dragDepth = 0;
  drop.hidden = true;
  useImage([...event.dataTransfer.files].find((f) => f.type.startsWith('image/')));
});

loadInfo();
input.focus();
