// Shelin tablet: start-up (pairing, who are you, PIN) and the top bar.
(function (P) {
  'use strict';
  function show(id) {
    ['screen-pair', 'screen-who', 'screen-pin', 'screen-sell'].forEach(function (s) { P.$(s).hidden = s !== id; });
    var signedIn = id === 'screen-sell';
    ['menu-recent', 'menu-shift', 'menu-logout'].forEach(function (b) { P.$(b).hidden = !signedIn; });
    P.$('who-name').textContent = signedIn && P.state.user ? (P.state.user.display_name || P.state.user.login) : '';
  }

  async function boot() {
    P.initSell();
    P.$('menu-recent').onclick = P.recentSheet;
    P.$('menu-shift').onclick = function () { P.shift ? P.closeShiftSheet() : P.openShiftSheet(); };
    P.$('menu-logout').onclick = P.signOut;
    P.$('shift-open-quick').onclick = P.openShiftSheet;
    P.$('pin-back').onclick = P.showWho;
    P.$('pair-submit').onclick = pair;
    P.$('pending-failed-ok').onclick = function () {
      var box = P.$('pending-failed');
      Array.prototype.slice.call(box.querySelectorAll('.pending-failed-item')).forEach(function (n) { n.remove(); });
      box.hidden = true;
    };
    var d;
    try { d = await P.api('GET', '/api/v1/pos/device'); }
    catch (e) {
      if (e.network) { P.online(false); setTimeout(boot, 3000); return; }
      P.$('pair-code').value = P.$('app').dataset.code || '';
      show('screen-pair'); return;
    }
    P.state.device = d.device; P.state.stall = d.stall; P.state.community = d.community; P.state.volunteers = d.volunteers;
    P.$('stall-name').textContent = d.stall.name;
    if (P.state.token) { enterSell(); } else { P.resumePending(); P.showWho(); }
  }

  async function pair() {
    P.$('pair-error').textContent = '';
    try { await P.api('POST', '/api/v1/pos/pair', { code: P.$('pair-code').value }); location.replace('/pos'); }
    catch (e) { P.$('pair-error').textContent = P.errorText(e); }
  }

  P.showWho = function () {
    var box = P.$('who-list'); box.innerHTML = '';
    P.state.volunteers.forEach(function (v) {
      box.appendChild(P.el('button', { class: 'who-btn', 'data-user': v.id, text: v.display_name, onclick: function () { pinFor(v); } }));
    });
    show('screen-who');
  };

  function pinFor(v) {
    var pin = '';
    P.$('pin-title').textContent = P.t('pin.for', v.display_name);
    P.$('pin-error').textContent = '';
    P.$('pin-dots').textContent = '';
    P.keypad(P.$('pin-pad'), { prefix: 'pin' }, async function (k) {
      if (k === 'del') pin = pin.slice(0, -1);
      else if (k === 'ok') {
        try {
          var r = await P.api('POST', '/api/v1/pos/pin-login', { user_id: v.id, pin: pin });
          P.state.token = r.token; P.state.user = r.user; P.state.user.display_name = v.display_name;
          sessionStorage.setItem('pos.token', r.token); sessionStorage.setItem('pos.user', JSON.stringify(P.state.user));
          P.$('pin-pad').innerHTML = '';
          enterSell();
        } catch (e) { pin = ''; P.$('pin-error').textContent = e.status === 401 ? P.t('pin.wrong') : P.errorText(e); }
      } else if (pin.length < 6) pin += k;
      P.$('pin-dots').textContent = '●'.repeat(pin.length);
    });
    show('screen-pin');
  }

  async function enterSell() {
    show('screen-sell');
    P.resumePending();
    try { await P.loadCatalog(); await P.loadShift(); await P.loadProviders(); } catch (e) { if (!e.network) P.toast(P.errorText(e)); }
  }

  window.addEventListener('online', function () { P.online(true); });
  window.addEventListener('offline', function () { P.online(false); });
  boot();
})(window.POS);
