// Shelin tablet: API client, messages, money formatting and the retry queue
// that makes a flaky network neither lose nor double a sale.
window.POS = window.POS || {};
(function (P) {
  'use strict';
  var msgs = JSON.parse(document.getElementById('pos-msgs').textContent || '{}');
  P.t = function (k) {
    var s = msgs[k] || k;
    for (var i = 1; i < arguments.length; i++) s = s.replace('%s', arguments[i]);
    return s;
  };
  P.$ = function (id) { return document.getElementById(id); };
  P.el = function (tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'onclick') e.addEventListener('click', attrs[k]);
      else if (k === 'class') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  };

  // Money: strings "12.50" in, whole cents inside, strings out. No floats.
  P.cents = function (s) {
    var parts = String(s).split('.');
    var frac = ((parts[1] || '') + '00').slice(0, 2);
    return parseInt(parts[0] || '0', 10) * 100 + parseInt(frac, 10);
  };
  P.str = function (c) {
    var neg = c < 0; c = Math.abs(c);
    return (neg ? '-' : '') + Math.floor(c / 100) + '.' + String(c % 100).padStart(2, '0');
  };
  P.yuan = function (s) { return '¥' + (typeof s === 'number' ? P.str(s) : s); };

  P.state = {
    token: sessionStorage.getItem('pos.token'),
    user: JSON.parse(sessionStorage.getItem('pos.user') || 'null'),
    device: null, stall: null, community: null, volunteers: []
  };
  P.base = function () { return '/api/v1/communities/' + P.state.community.id; };

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }
  P.newKey = newKey;

  // api sends one request; a network failure throws {network:true}.
  P.api = async function (method, path, body, key) {
    var h = { 'Accept': 'application/json' };
    if (P.state.token) h['Authorization'] = 'Bearer ' + P.state.token;
    if (body !== undefined) h['Content-Type'] = 'application/json';
    if (key) h['Idempotency-Key'] = key;
    var res;
    try {
      res = await fetch(path, { method: method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    } catch (e) {
      P.online(false);
      throw { network: true };
    }
    P.online(true);
    var data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && P.state.token && path.indexOf('/pos/') < 0) P.signOut();
    if (!res.ok) {
      var err = (data && data.error) || { code: 'internal', message: res.statusText };
      err.status = res.status;
      throw err;
    }
    return data;
  };

  P.online = function (ok) {
    var n = P.$('net');
    n.className = 'net ' + (ok ? 'ok' : 'off');
    P.$('net-text').textContent = ok ? '' : P.t('offline');
  };

  // submit sends a write with an Idempotency-Key and retries it with the same
  // key until the server answers, showing it as pending meanwhile. Pending
  // writes survive a reload (localStorage) and are resumed at start.
  var pending = JSON.parse(localStorage.getItem('pos.pending') || '{}');
  function savePending() {
    localStorage.setItem('pos.pending', JSON.stringify(pending));
    var n = Object.keys(pending).length, p = P.$('pending');
    p.hidden = n === 0;
    p.textContent = P.t('pending', n);
  }
  // A write that needs a second person carries their approval token (from
  // POST {c}/approvals), never their PIN, so a pending write replays after a
  // reload with the same key and body and the server answers the first result.
  P.submit = async function (method, path, body, onWait) {
    var key = newKey();
    pending[key] = { method: method, path: path, body: body, at: Date.now() };
    savePending();
    return P.retry(key, onWait);
  };
  var inflight = {};
  P.retry = async function (key, onWait) {
    var r = pending[key], delay = 800;
    inflight[key] = true;
    try {
      for (;;) {
        try {
          var data = await P.api(r.method, r.path, r.body, key);
          delete pending[key]; savePending();
          return data;
        } catch (e) {
          // Nobody signed in (a closed tab, an expired session): the write
          // stays queued and is resumed after the next sign-in.
          if (e.status === 401) throw e;
          if (!e.network && !(e.status >= 500)) { delete pending[key]; savePending(); throw e; }
          if (onWait) onWait();
          await new Promise(function (ok) { setTimeout(ok, delay); });
          delay = Math.min(delay * 2, 8000);
        }
      }
    } finally { delete inflight[key]; }
  };
  // resumePending replays what is queued (at start and after each sign-in)
  // with the same keys and bodies. A write the server refuses is never
  // dropped silently: the volunteer is told to check the drawer (cash may
  // have been taken for it).
  P.resumePending = function () {
    savePending();
    if (!P.state.token) return;
    Object.keys(pending).forEach(function (k) {
      if (inflight[k]) return;
      var r = pending[k];
      P.retry(k).catch(function (e) { if (e.status !== 401) P.pendingFailed(r, e); });
    });
  };
  P.pendingFailed = function (r, e) {
    var box = P.$('pending-failed');
    var what = /\/refunds$/.test(r.path) ? P.t('pending.refund') : /\/sales$/.test(r.path) ? P.t('pending.sale') : P.t('pending.write');
    var when = new Date(r.at);
    box.insertBefore(P.el('p', { class: 'pending-failed-item', text: P.t('pending.failed', what,
      String(when.getHours()).padStart(2, '0') + ':' + String(when.getMinutes()).padStart(2, '0'), P.errorText(e)) }), P.$('pending-failed-ok'));
    box.hidden = false;
  };

  P.signOut = function () {
    if (P.state.token) fetch('/api/v1/sessions/current', { method: 'DELETE', headers: { 'Authorization': 'Bearer ' + P.state.token } }).catch(function () {});
    sessionStorage.removeItem('pos.token'); sessionStorage.removeItem('pos.user');
    P.state.token = null; P.state.user = null;
    if (P.showWho) P.showWho();
  };

  // events streams a sale's Server-Sent Events (fetch keeps the bearer
  // token); it reconnects until stop() is called.
  P.events = function (saleId, onSale) {
    var stopped = false, ctrl = null;
    (async function loop() {
      while (!stopped) {
        ctrl = new AbortController();
        try {
          var res = await fetch(P.base() + '/sales/' + saleId + '/events', {
            headers: { 'Authorization': 'Bearer ' + P.state.token, 'Accept': 'text/event-stream' }, signal: ctrl.signal });
          var reader = res.body.getReader(), dec = new TextDecoder(), buf = '';
          for (;;) {
            var r = await reader.read();
            if (r.done) break;
            buf += dec.decode(r.value, { stream: true });
            var i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              var chunk = buf.slice(0, i); buf = buf.slice(i + 2);
              chunk.split('\n').forEach(function (line) {
                if (line.indexOf('data: ') === 0) { try { onSale(JSON.parse(line.slice(6))); } catch (e) {} }
              });
            }
          }
        } catch (e) { /* reconnect */ }
        if (!stopped) await new Promise(function (ok) { setTimeout(ok, 1000); });
      }
    })();
    return function () { stopped = true; if (ctrl) ctrl.abort(); };
  };

  // authImg loads an image that needs the bearer token (QR codes, product
  // pictures, the 收款码) into img through a blob URL.
  var blobs = {};
  P.authImg = function (img, url) {
    if (blobs[url]) { img.src = blobs[url]; return img; }
    fetch(url, { headers: { 'Authorization': 'Bearer ' + P.state.token } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.blob(); })
      .then(function (b) { blobs[url] = URL.createObjectURL(b); img.src = blobs[url]; })
      .catch(function () { img.alt = '⚠'; });
    return img;
  };

  // A short "paid" chime (no audio file needed).
  P.chime = function () {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      [880, 1320].forEach(function (f, i) {
        var o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = f; o.connect(g); g.connect(ctx.destination);
        g.gain.setValueAtTime(0.2, ctx.currentTime + i * 0.18);
        g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.18 + 0.3);
        o.start(ctx.currentTime + i * 0.18); o.stop(ctx.currentTime + i * 0.18 + 0.32);
      });
    } catch (e) {}
  };

  P.errorText = function (e) {
    if (e && e.code === 'insufficient_stock') return P.t('err.stock') + (e.message ? '：' + e.message : '');
    if (e && e.field === 'approval_token') return P.t('approval.invalid');
    if (e && e.field === 'approver') return P.t('approval.again');
    if (e && e.display) return e.display;
    if (e && e.message) return e.message;
    return P.t('err.generic');
  };

  // approve exchanges a second person's PIN for an approval token of action
  // (discount or refund). The PIN goes to the server once and is not kept;
  // the error, if any, is in words for the box next to the PIN.
  P.approve = async function (action, userId, pin) {
    try {
      return await P.api('POST', P.base() + '/approvals', { action: action, user_id: userId, pin: pin });
    } catch (e) {
      if (e.network) e.text = P.t('approval.offline');
      else if (e.status === 429) e.text = P.t('approval.locked');
      else if (e.field === 'pin' && e.status === 403) e.text = P.t('approval.wrong');
      else if (e.field === 'pin') e.text = P.t('approval.pin.missing');
      else if (e.field === 'user_id') e.text = P.t('approval.other');
      else e.text = P.errorText(e);
      throw e;
    }
  };
})(window.POS);
