// Dynofleet dashboard: plain JS, no build step. All data comes from the API with the bearer token,
// which lives only in this page's memory (typed in, or arriving once in the URL fragment, never sent
// to the server): kept in sessionStorage, it outlived the dashboard and any later page of the same
// origin in the tab (a pool's own pages, their third-party scripts) read it (security review 6
// S6-4). A reload asks for it again; Back to a page the browser kept whole keeps it.
(function () {
  'use strict';
  var API = location.pathname.replace(/\/(index\.html)?$/, '') + '/api/v1/pools';
  var KEY = 'dynofleet.token';
  var held = null;
  // where an older dashboard left it: gone, for the next page of the origin not to find it
  try { sessionStorage.removeItem(KEY); } catch (e) { /* storage off: nothing was kept there */ }
  // every 2 s, every 5 s above 10 pools (audit 21 L2: each tab read every pool every 2 s)
  var POLL_MS = 2000;
  var POLL_MANY_MS = 5000;
  var poolCount = 0;
  // each list page's last ETag and data: the list answers 304 while none of its pools changed
  var listCache = {};
  var selected = null;
  var statsMissing = {};
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };

  function takeTokenFromFragment() {
    var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (m) {
      // out of the address bar first: a '%' the decoding refuses stopped the script here, a blank
      // page with the token still showing (audit 15)
      history.replaceState(null, '', location.pathname + location.search);
      var t = m[1];
      try { t = decodeURIComponent(t); } catch (e) { /* kept as typed */ }
      held = t;
    }
  }

  function token() { return held; }

  /** {@code cache} ({etag, data}): sent as If-None-Match, its data kept on 304, updated on 200. */
  function api(method, path, body, contentType, cache) {
    var opts = { method: method, headers: { 'Authorization': 'Bearer ' + token(), 'Accept': 'application/json' } };
    if (cache && cache.etag) opts.headers['If-None-Match'] = cache.etag;
    if (body !== undefined) {
      opts.headers['Content-Type'] = contentType || 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch(API + path, opts).then(function (r) {
      if (r.status === 401) { signOut('The token was refused.'); throw new Error('unauthorized'); }
      if (r.status === 304 && cache && cache.etag) return cache.data;
      // a write to a pool kept in a pool file: the file undoes it at the next start (audit 12)
      var warning = r.headers.get('Warning');
      if (warning && r.ok) {
        var m = /^\d{3} \S+ "(.*)"/.exec(warning);
        showError('Warning: ' + (m ? m[1] : warning));
      }
      return r.text().then(function (t) {
        var data = null;
        // the router's HTML page while Dynofleet restarts read as "Unexpected token '<'" (audit 15)
        if (t && /json/.test(r.headers.get('Content-Type') || '')) {
          try { data = JSON.parse(t); } catch (ignored) { data = null; }
        }
        if (!r.ok) {
          var e = new Error((data && (data.detail || data.title)) || ('HTTP ' + r.status + ' ' + r.statusText));
          e.status = r.status;
          var ra = parseInt(r.headers.get('Retry-After'), 10);
          if (!isNaN(ra)) e.retryAfter = ra * 1000;
          throw e;
        }
        if (cache) { cache.etag = r.headers.get('ETag'); cache.data = data; }
        return data;
      });
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function cell(tr, text, cls) { var td = el('td', cls, text); tr.appendChild(td); return td; }

  function money(x) { return x === undefined || x === null ? '–' : '$' + Number(x).toFixed(2); }
  function dash(x, f) { return x === undefined || x === null ? '–' : (f ? f(x) : x); }

  function conditionClass(c) {
    if (c.type === 'Degraded') return c.status === 'True' ? 'bad' : 'ok';
    if (c.type === 'Progressing') return c.status === 'True' ? 'warn' : 'idle';
    if (c.type === 'Maintenance') return c.status === 'True' ? 'bad' : 'idle';
    return c.status === 'True' ? 'ok' : (c.status === 'False' ? 'bad' : 'idle');
  }

  function badges(td, conditions) {
    (conditions || []).forEach(function (c) {
      var b = el('span', 'badge ' + conditionClass(c), c.type + (c.status === 'True' ? '' : '=' + c.status));
      b.title = [c.reason, c.message].filter(Boolean).join(': ');
      td.appendChild(b);
    });
    if (!conditions || !conditions.length) td.appendChild(el('span', 'badge idle', 'Pending'));
  }

  function phaseClass(p) {
    return { Ready: 'ok', Creating: 'warn', Releasing: 'warn', Draining: 'idle', Deleting: 'idle', Unhealthy: 'bad', Ejected: 'bad',
      Failed: 'bad' }[p] || 'idle';
  }

  function renderPools(list) {
    var tbody = $('pools').tBodies[0];
    var focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.pool : null;
    tbody.textContent = '';
    var items = list.items || [];
    poolCount = items.length;
    $('pool-count').textContent = items.length + (items.length === 1 ? ' pool' : ' pools');
    $('pools-empty').hidden = items.length > 0;
    items.forEach(function (p) {
      var s = p.status || {}, spec = p.spec || {};
      var tr = el('tr');
      tr.dataset.pool = p.metadata.name;
      // reachable from the keyboard too: Tab to a row, Enter or Space opens it (audit 15)
      tr.tabIndex = 0;
      tr.setAttribute('aria-selected', p.metadata.name === selected ? 'true' : 'false');
      if (p.metadata.name === selected) tr.className = 'selected';
      cell(tr, p.metadata.name, 'name');
      var src = spec.staticBackends && spec.staticBackends.length
        ? spec.staticBackends.length + ' static'
        : (spec.pipeline || '') + (spec.template && spec.template.sourceApp ? ' / ' + spec.template.sourceApp : '');
      var srcTd = cell(tr, src);
      if (spec.paused) srcTd.appendChild(el('span', 'badge warn', 'paused'));
      // the proxy answers the pool's requests with 503 (spec.routing.maintenance): say so at once
      if (spec.routing && spec.routing.maintenance) srcTd.appendChild(el('span', 'badge bad', 'maintenance'));
      if (p.metadata.deletionTimestamp) srcTd.appendChild(el('span', 'badge bad', 'deleting'));
      cell(tr, dash(spec.replicas !== undefined ? spec.replicas : (spec.staticBackends || []).length), 'num');
      cell(tr, dash(s.readyReplicas), 'num');
      cell(tr, dash(s.updatedReplicas), 'num');
      badges(cell(tr, ''), s.conditions);
      cell(tr, money(s.estimatedMonthlyCost), 'num');
      cell(tr, money(s.equivalentDynoCost), 'num');
      tr.addEventListener('click', function () { select(p.metadata.name); });
      tr.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); select(p.metadata.name); }
      });
      tbody.appendChild(tr);
    });
    if (focused) {
      var again = tbody.querySelector('tr[data-pool="' + CSS.escape(focused) + '"]');
      if (again) again.focus();
    }
    if (selected && !items.some(function (p) { return p.metadata.name === selected; })) {
      selected = null;
      $('detail').hidden = true;
    }
  }

  function renderDetail(p, events, stats) {
    var s = p.status || {}, spec = p.spec || {};
    $('detail').hidden = false;
    $('detail-title').textContent = p.metadata.name;
    var input = $('scale-input');
    var managed = !(spec.staticBackends && spec.staticBackends.length);
    var deleting = !!p.metadata.deletionTimestamp; // a write would get 409 terminating (audit 12)
    input.disabled = $('scale-button').disabled = !managed || deleting || scaling;
    // a static pool has nothing to pause: the reconciler never reads it there (audit 15)
    $('pause-button').disabled = !managed || deleting;
    $('scale-button').dataset.current = spec.replicas === undefined ? '' : String(spec.replicas);
    if (document.activeElement !== input) input.value = dash(spec.replicas, function (x) { return x; }) === '–' ? '' : spec.replicas;
    $('pause-button').textContent = spec.paused ? 'Resume' : 'Pause';
    $('pause-button').dataset.paused = spec.paused ? 'true' : 'false';

    var sum = $('detail-summary');
    sum.textContent = '';
    [['Generation', p.metadata.generation + ' (observed ' + dash(s.observedGeneration) + ')'],
     ['Target release', dash(s.targetRelease)], ['Dyno size', dash(spec.template && spec.template.dynoSize)],
     ['Backends / mo', money(s.estimatedMonthlyCost) + ' vs ' + money(s.equivalentDynoCost)
       + ' as dynos of one app (backends only: not this app, its database or the source app)']]
      .concat(managed ? [['Release hook', s.webhook ? 'on ' + s.webhook.app : 'none (the sweep finds releases)']] : [])
      .concat(deleting ? [['Deleting since', new Date(p.metadata.deletionTimestamp).toLocaleString()
        + ' (its apps are billed until they are gone)']] : [])
      .forEach(function (kv) {
        var span = el('span', null, kv[0] + ': ');
        span.appendChild(el('b', null, kv[1]));
        sum.appendChild(span);
      });

    // why a pool is not Ready, in words: the list's badges carry it only as a tooltip (audit 12)
    var ctbody = $('conditions').tBodies[0];
    ctbody.textContent = '';
    (s.conditions || []).forEach(function (c) {
      var tr = el('tr');
      tr.dataset.condition = c.type;
      cell(tr, c.type);
      cell(tr, '').appendChild(el('span', 'badge ' + conditionClass(c), c.status));
      cell(tr, dash(c.reason));
      cell(tr, dash(c.message));
      cell(tr, c.lastTransitionTime ? new Date(c.lastTransitionTime).toLocaleString() : '–');
      ctbody.appendChild(tr);
    });
    if (!s.conditions || !s.conditions.length) {
      var trc = el('tr'); var tdc = cell(trc, 'Not reconciled yet.', 'muted'); tdc.colSpan = 5; ctbody.appendChild(trc);
    }

    var byApp = {};
    (stats || []).forEach(function (x) { byApp[x.app] = x; byApp[x.url] = x; });
    // the router picks the dyno that answers /stats, and each dyno's proxy counts its own traffic:
    // say whose figures these are (audit 21 L2: they jumped from dyno to dyno unnamed)
    var from = stats && stats.length && stats[0].dyno;
    $('stats-dyno').textContent = from ? 'traffic as dyno ' + from + ' sees it' : '';
    var tbody = $('backends').tBodies[0];
    tbody.textContent = '';
    var backends = s.backends || [];
    if (!backends.length) {
      var tr0 = el('tr'); var td0 = cell(tr0, 'No backends reported yet.', 'muted'); td0.colSpan = 9; tbody.appendChild(tr0);
    }
    backends.forEach(function (b) {
      var st = byApp[b.app] || byApp[b.webUrl] || {};
      var tr = el('tr');
      // none for a backend whose create has not answered: no "undefined" key to match
      if (b.app || b.webUrl) tr.dataset.backend = b.app || b.webUrl;
      // no name until its create has answered: the name is withheld (security review 5 S5-1)
      var name = cell(tr, b.app || b.webUrl || 'a new app', b.app || b.webUrl ? 'name' : 'name muted');
      if (b.webUrl) name.title = b.webUrl;
      cell(tr, '').appendChild(el('span', 'badge ' + phaseClass(b.phase), b.phase || 'Unknown'));
      var partly = b.healthy === true && b.failingOn && b.failingOn.length;
      var h = partly ? ['warn', 'healthy, not everywhere']
        : b.healthy === true && b.probed === false ? ['idle', 'healthy (not probed yet)']
        : b.healthy === true ? ['ok', 'healthy']
        : b.phase === 'Ejected' ? ['warn', 'ejected (requests failed)']
        : b.healthy === false ? ['bad', 'unhealthy'] : ['idle', 'unknown'];
      var ht = cell(tr, '');
      ht.appendChild(el('span', 'badge ' + h[0], h[1]));
      if (partly) ht.title = 'failing on ' + b.failingOn.join(', ') + ' (those dynos route around it)';
      else if (b.consecutiveFailures) {
        ht.title = b.consecutiveFailures + ' consecutive failures'
          + (st.lastFailure ? ', the last: ' + st.lastFailure : '');
      }
      cell(tr, dash(b.release));
      cell(tr, dash(st.inFlight), 'num');
      cell(tr, dash(st.requestsPerSecond, function (x) { return x.toFixed(1); }), 'num');
      cell(tr, dash(st.errorRate, function (x) { return (x * 100).toFixed(1) + '%'; }), 'num');
      cell(tr, dash(st.p50Millis, function (x) { return Math.round(x) + ' ms'; }), 'num');
      cell(tr, dash(st.p99Millis, function (x) { return Math.round(x) + ' ms'; }), 'num');
      tbody.appendChild(tr);
    });

    var etbody = $('events').tBodies[0];
    etbody.textContent = '';
    (events || []).slice(0, 20).forEach(function (e) {
      var tr = el('tr');
      cell(tr, '').appendChild(el('span', 'badge ' + (e.type === 'Warning' ? 'bad' : 'idle'), e.type));
      cell(tr, e.reason);
      cell(tr, e.message);
      cell(tr, e.count, 'num');
      cell(tr, e.lastTimestamp ? new Date(e.lastTimestamp).toLocaleString() : '–');
      etbody.appendChild(tr);
    });
    if (!events || !events.length) {
      var tr1 = el('tr');
      var td1 = cell(tr1, events && events.failed ? 'Events could not be loaded: ' + events.failed : 'No events.', 'muted');
      td1.colSpan = 5; etbody.appendChild(tr1);
    }
  }

  function loadStats(name) {
    if (statsMissing[name]) return Promise.resolve(null);
    return api('GET', '/' + encodeURIComponent(name) + '/stats').catch(function (e) {
      if (e.status === 404) statsMissing[name] = true; // endpoint not there (yet): show "–"
      return null;
    });
  }

  /** Every pool, page by page (500 a page): a fleet larger than one page is shown whole. */
  function allPools(token, items) {
    var path = '?limit=500' + (token ? '&continue=' + encodeURIComponent(token) : '');
    var cache = listCache[path] || (listCache[path] = {});
    return api('GET', path, undefined, undefined, cache).then(function (page) {
      var all = (items || []).concat(page.items || []);
      var next = page.metadata && page.metadata['continue'];
      return next && all.length < 100000 ? allPools(next, all) : { items: all };
    });
  }

  // One refresh at a time, the next 2 s after the last ended (longer after failures, at least the
  // answer's Retry-After, up to a minute), none while the tab is hidden, and an answer for a pool
  // no longer selected is dropped: with a slow API a late answer showed pool A while Scale acted
  // on pool B, and every tab asked every 2 s through an outage (audit 15)
  var running = null;
  var again = false;
  var failures = 0;
  var retryAfter = 0;

  function refresh() {
    if (running) { again = true; return running; }
    var want = selected;
    running = allPools().then(function (list) {
      renderPools(list);
      if (Date.now() > errorUntil) $('banner').hidden = true; // an action's error stays readable
      setLive(true);
      failures = 0;
      if (!want || want !== selected) return;
      var n = encodeURIComponent(want);
      return Promise.all([api('GET', '/' + n), api('GET', '/' + n + '/events?limit=20').catch(function (e) {
        var none = []; none.failed = e.message; return none;
      }), loadStats(want)]).then(function (r) { if (want === selected) renderDetail(r[0], r[1], r[2]); });
    }).catch(function (e) {
      if (e.message === 'unauthorized') return;
      failures++;
      retryAfter = e.retryAfter || 0;
      setLive(false);
      showError(e.message);
    }).then(function () {
      running = null;
      if (again) { again = false; refresh(); } else schedule();
    });
    return running;
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!token() || $('app').hidden || document.hidden) return; // visibilitychange starts it again
    var every = poolCount > 10 ? POLL_MANY_MS : POLL_MS;
    var wait = failures ? Math.min(60000, Math.max(retryAfter, every * Math.pow(2, failures))) : every;
    timer = setTimeout(function () { timer = null; refresh(); }, wait);
  }

  function setLive(ok) {
    $('live').classList.toggle('stale', !ok);
    $('live').textContent = ok ? '\u25CF\u00A0live' : '\u25CF\u00A0stale';
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && token() && !$('app').hidden) refresh();
  });

  var errorUntil = 0;
  function showError(msg) { $('banner').textContent = msg; $('banner').hidden = false; errorUntil = Date.now() + 10000; }

  function select(name) {
    selected = name;
    statsMissing[name] = false;
    refresh();
  }

  // what is amiss in Dynofleet's configuration (GET /info's warnings: a read-only token that is the
  // API token, a rotation's previous token still set), shown for as long as the page is signed in
  function showConfigWarnings() {
    var box = $('config-warnings');
    fetch(API.replace(/\/pools$/, '/info'), { headers: { 'Authorization': 'Bearer ' + token(), 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (info) {
        box.textContent = '';
        ((info && info.warnings) || []).forEach(function (w) { box.appendChild(el('p', null, w)); });
        box.hidden = !box.firstChild;
      }, function () { /* the pools' own calls say what is wrong */ });
  }

  function start() {
    $('login').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    showConfigWarnings();
    refresh();
  }

  function signOut(msg) {
    held = null;
    listCache = {}; // another token may see the pools redacted otherwise
    $('config-warnings').hidden = true;
    if (timer) { clearTimeout(timer); timer = null; }
    $('app').hidden = true;
    $('signout').hidden = true;
    $('login').hidden = false;
    $('login-error').hidden = !msg;
    $('login-error').textContent = msg || '';
  }

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    held = $('token-input').value.trim();
    $('token-input').value = '';
    start();
  });
  $('signout').addEventListener('click', function () { signOut(); });
  var scaling = false;
  function scale() {
    var n = parseInt($('scale-input').value, 10);
    if (!selected || isNaN(n) || n < 0) { showError('Replicas must be a whole number ≥ 0'); return; }
    var current = parseInt($('scale-button').dataset.current, 10);
    // a scale-down drains and deletes apps: a typo (1 for 10, 0) asked nothing (audit 15)
    if (!isNaN(current) && n < current && !window.confirm(n === 0
        ? 'Scale ' + selected + ' to 0? All ' + current + ' backend apps are drained and deleted, and the pool serves nothing until it is scaled up again.'
        : 'Scale ' + selected + ' from ' + current + ' to ' + n + '? ' + (current - n) + ' backend app(s) are drained and deleted.')) {
      return;
    }
    $('scale-input').blur();
    scaling = true;
    $('scale-button').disabled = true;
    var name = selected;
    api('PUT', '/' + encodeURIComponent(name) + '/scale', { replicas: n }).then(function () {
      scaling = false; refresh();
    }, function (e) { scaling = false; $('scale-button').disabled = false; showError(e.message); });
  }
  $('scale-button').addEventListener('click', scale);
  $('scale-input').addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { ev.preventDefault(); scale(); } });
  $('pause-button').addEventListener('click', function () {
    var paused = $('pause-button').dataset.paused === 'true';
    api('PATCH', '/' + encodeURIComponent(selected), { spec: { paused: !paused } }, 'application/merge-patch+json')
      .then(refresh, function (e) { showError(e.message); });
  });

  takeTokenFromFragment();
  if (token()) start(); else signOut();
})();
