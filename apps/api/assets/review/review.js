'use strict';
// The reviewers' page. Everything a listing holds is merchant text: it reaches the page through textContent only,
// never as markup, and the Content-Security-Policy refuses inline script besides.
(() => {
  const TOKEN_KEY = 'review.accessToken';
  const POLL_EMPTY_MS = 30_000;
  const $ = (id) => document.getElementById(id);

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    item: null,
    chosen: null,
    categories: [],
    photoUrl: null,
    busy: false,
  };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, options = {}) {
    const headers = { Accept: 'application/json', ...(options.headers || {}) };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401) {
      logout('Your session ended: log in again.');
      throw new HttpError(401, 'not logged in');
    }
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new HttpError(response.status, body.message || `${response.status} ${response.statusText}`);
    }
    return options.raw ? response : response.json();
  }

  function show(section) {
    for (const id of ['login', 'empty', 'item']) $(id).hidden = id !== section;
    const loggedIn = section !== 'login';
    $('counts').hidden = !loggedIn;
    $('logout').hidden = !loggedIn;
  }

  function logout(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $('login-error').textContent = message || '';
    show('login');
    $('username').focus();
  }

  async function login(event) {
    event.preventDefault();
    $('login-error').textContent = '';
    const body = new URLSearchParams({
      grant_type: 'password',
      username: $('username').value,
      password: $('password').value,
    });
    try {
      const response = await fetch('/v1/auth/token', {
        method: 'POST',
        body,
        headers: { Accept: 'application/json' },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.error_description || answer.message || 'Login failed');
      state.token = answer.access_token;
      sessionStorage.setItem(TOKEN_KEY, state.token);
      $('password').value = '';
      await start();
    } catch (error) {
      $('login-error').textContent = error.message;
    }
  }

  async function start() {
    try {
      state.categories = await api('/v1/review/categories');
    } catch (error) {
      if (error.status === 403)
        return logout('This account may not review listings (it needs the reviewer role).');
      if (error.status !== 401) $('login-error').textContent = error.message;
      return;
    }
    renderCategories();
    await loadNext();
  }

  async function refreshStats() {
    const stats = await api('/v1/review/stats');
    $('left').textContent = String(stats.left);
    $('labelled-today').textContent = String(stats.labelledToday);
    $('labelled-mine').textContent = String(stats.labelledTodayByYou);
  }

  let emptyTimer;
  async function loadNext() {
    clearTimeout(emptyTimer);
    $('decide-error').textContent = '';
    const [{ item }] = await Promise.all([api('/v1/review/next'), refreshStats()]);
    state.item = item;
    state.chosen = null;
    if (!item) {
      show('empty');
      emptyTimer = setTimeout(() => loadNext().catch(report), POLL_EMPTY_MS);
      return;
    }
    renderItem(item);
    show('item');
  }

  function renderItem(item) {
    $('title').textContent = item.designation || '(no title)';
    $('description').textContent = item.description ? textOf(item.description) : '';
    $('reason').textContent = item.reason === 'audit' ? 'random audit' : 'model unsure';
    $('version').textContent = `model ${item.modelVersion}`;
    $('duplicates').textContent =
      item.duplicates > 0 ? `+${item.duplicates} similar listing(s) get the same label` : '';
    const list = $('suggestions');
    list.replaceChildren();
    item.top.forEach((entry, index) => {
      const button = element('button');
      button.type = 'button';
      button.dataset.code = String(entry.prdtypecode);
      const percent = Math.round(entry.probability * 100);
      button.append(
        element('kbd', '', String(index + 1)),
        element('span', 'name', `${entry.category} (${entry.prdtypecode})`),
        element('span', 'probability', `${percent} %`),
      );
      button.addEventListener('click', () => choose(entry.prdtypecode));
      const row = element('li');
      const fill = element('div', 'bar-fill');
      fill.style.width = `${Math.max(percent, 1)}%`;
      row.append(button, fill);
      list.append(row);
    });
    $('search').value = '';
    renderCategories();
    renderChoice();
    loadPhoto(item);
  }

  /**
   * Merchant HTML as plain text, without ever making an element of it (an element could start loading or run a
   * handler): hidden blocks dropped, line breaks kept, tags stripped, then entities decoded by a textarea, whose
   * content the parser reads as text only.
   */
  function textOf(html) {
    const stripped = html
      .replace(/<(script|style|template|noscript|iframe|object)\b[\s\S]*?<\/\1\s*>/gi, '')
      .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6]|tr)\s*>/gi, '\n')
      .replace(/<[^>]*>?/g, '');
    const decoder = document.createElement('textarea');
    decoder.innerHTML = stripped;
    return decoder.value.replace(/\n{3,}/g, '\n\n').trim();
  }

  async function loadPhoto(item) {
    const box = $('photo');
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = null;
    box.replaceChildren(element('span', 'no-photo', item.hasImage ? 'Loading photo…' : 'No photo'));
    if (!item.hasImage) return;
    try {
      const response = await api(`/v1/review/${item.id}/image`, {
        raw: true,
        headers: { Accept: 'image/*' },
      });
      const blob = await response.blob();
      if (state.item !== item) return;
      state.photoUrl = URL.createObjectURL(blob);
      const img = element('img');
      img.alt = item.designation || 'Product photo';
      img.src = state.photoUrl;
      box.replaceChildren(img);
    } catch {
      box.replaceChildren(element('span', 'no-photo', 'Photo no longer kept'));
    }
  }

  function nameOf(code) {
    const category = state.categories.find((c) => c.prdtypecode === code);
    return category ? category.name : String(code);
  }

  function renderCategories() {
    const query = $('search').value.trim().toLowerCase();
    const list = $('categories');
    list.replaceChildren();
    const matches = state.categories.filter(
      (c) => !query || String(c.prdtypecode).includes(query) || c.name.toLowerCase().includes(query),
    );
    for (const category of matches) {
      const button = element('button');
      button.type = 'button';
      button.setAttribute('role', 'option');
      button.dataset.code = String(category.prdtypecode);
      button.append(
        element('span', 'code', String(category.prdtypecode)),
        element('span', '', category.name),
      );
      button.addEventListener('click', () => choose(category.prdtypecode));
      const row = element('li');
      row.append(button);
      list.append(row);
    }
    renderChoice();
    return matches;
  }

  function choose(code) {
    state.chosen = code;
    renderChoice();
  }

  function renderChoice() {
    for (const button of document.querySelectorAll('#suggestions button, #categories button')) {
      const selected = Number(button.dataset.code) === state.chosen;
      button.classList.toggle('selected', selected);
      button.setAttribute('aria-selected', String(selected));
    }
    $('chosen').textContent = state.chosen === null ? '' : `${nameOf(state.chosen)} (${state.chosen})`;
    $('confirm').disabled = state.chosen === null || state.busy;
  }

  async function decide(body) {
    if (!state.item || state.busy) return;
    state.busy = true;
    renderChoice();
    $('skip').disabled = true;
    try {
      await api(`/v1/review/${state.item.id}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      await loadNext();
    } catch (error) {
      if (error.status === 409) {
        $('decide-error').textContent = `${error.message}. Loading the next listing…`;
        setTimeout(() => loadNext().catch(report), 1500);
      } else report(error);
    } finally {
      state.busy = false;
      $('skip').disabled = false;
      renderChoice();
    }
  }

  const confirm = () => state.chosen !== null && decide({ prdtypecode: state.chosen });
  const skip = () => decide({ skip: $('skip-reason').value });

  function report(error) {
    if (error.status !== 401) $('decide-error').textContent = error.message;
  }

  function onKey(event) {
    if ($('item').hidden || event.ctrlKey || event.metaKey || event.altKey) return;
    const inSearch = event.target === $('search');
    if (inSearch) {
      if (event.key === 'Enter') {
        event.preventDefault();
        const matches = renderCategories();
        if (
          matches.length === 1 ||
          (matches.length > 0 && !matches.some((m) => m.prdtypecode === state.chosen))
        ) {
          choose(matches[0].prdtypecode);
        } else confirm();
      } else if (event.key === 'Escape') {
        $('search').blur();
      }
      return;
    }
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    const index = ['1', '2', '3'].indexOf(event.key);
    if (index >= 0 && state.item && state.item.top[index]) {
      event.preventDefault();
      choose(state.item.top[index].prdtypecode);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      confirm();
    } else if (event.key === 's' || event.key === 'S') {
      event.preventDefault();
      skip();
    } else if (event.key === '/') {
      event.preventDefault();
      $('search').focus();
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login').addEventListener('submit', login);
    $('logout').addEventListener('click', () => logout());
    $('confirm').addEventListener('click', confirm);
    $('skip').addEventListener('click', skip);
    $('reload').addEventListener('click', () => loadNext().catch(report));
    $('search').addEventListener('input', renderCategories);
    document.addEventListener('keydown', onKey);
    if (state.token) {
      show('item');
      start();
    } else {
      show('login');
    }
  });
})();
