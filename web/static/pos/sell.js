// Shelin tablet: the sell screen (tiles, cart, cash, QR, receipt).
(function (P) {
  'use strict';
  var cart = {};      // product id -> qty
  var discount = null; // {cents, token, by}: approved by a second person (their token, never their PIN)
  var catalog = [];   // tiles
  P.shift = null;

  P.loadCatalog = async function () {
    var d = await P.api('GET', P.base() + '/pos/catalog?location_id=' + P.state.stall.location_id);
    catalog = d.items;
    renderTiles(); renderCart();
  };
  P.loadShift = async function () {
    try {
      var d = await P.api('GET', P.base() + '/shifts/current?location_id=' + P.state.stall.location_id);
      P.shift = d.shift; P.drawer = d.drawer || null;
    } catch (e) { P.shift = null; P.drawer = null; }
    P.$('shift-warning').hidden = !!P.shift;
    renderCart();
  };

  function product(id) { return catalog.filter(function (p) { return p.id === id; })[0]; }
  function left(p) { return p.available === null || p.available === undefined ? Infinity : p.available - (cart[p.id] || 0); }

  function renderTiles() {
    var box = P.$('tiles'); box.innerHTML = '';
    catalog.forEach(function (p) {
      var out = p.available !== null && p.available !== undefined && p.available <= 0;
      var pic = p.image_url ? P.authImg(P.el('img', { alt: '', class: 'tile-pic' }), p.image_url) :
        P.el('div', { class: 'tile-pic initial', text: p.name.slice(0, 2) });
      var stock = p.available === null || p.available === undefined ? '' : (out ? P.t('soldout') : P.t('left', left(p)));
      var b = P.el('button', { class: 'ptile' + (out ? ' out' : ''), 'data-sku': p.sku, id: 'tile-' + p.sku, onclick: function () { add(p.id, 1); } },
        [pic, P.el('span', { class: 'pname', text: p.name }), P.el('span', { class: 'pprice', text: P.yuan(p.price) }),
         P.el('span', { class: 'pstock', text: stock })]);
      if (out) b.disabled = true;
      box.appendChild(b);
    });
  }

  function add(id, n) {
    var p = product(id);
    var q = (cart[id] || 0) + n;
    if (n > 0 && left(p) <= 0) { P.toast(P.t('err.stockleft', p.name, p.available)); return; }
    if (q <= 0) delete cart[id]; else cart[id] = q;
    renderTiles(); renderCart();
  }
  P.subtotal = function () {
    var t = 0;
    Object.keys(cart).forEach(function (id) { t += P.cents(product(id).price) * cart[id]; });
    return t;
  };
  P.cartTotal = function () { return Math.max(0, P.subtotal() - (discount ? discount.cents : 0)); };
  function renderCart() {
    var ul = P.$('cart-lines'); ul.innerHTML = '';
    Object.keys(cart).forEach(function (id) {
      var p = product(id);
      ul.appendChild(P.el('li', { class: 'cline' }, [
        P.el('span', { class: 'cname', text: p.name }),
        P.el('span', { class: 'cqty' }, [
          P.el('button', { class: 'qbtn', text: '−', 'aria-label': '−', onclick: function () { add(id, -1); } }),
          P.el('b', { text: String(cart[id]) }),
          P.el('button', { class: 'qbtn', text: '+', 'aria-label': '+', onclick: function () { add(id, 1); } })]),
        P.el('span', { class: 'camt', text: P.yuan(P.cents(p.price) * cart[id]) })]));
    });
    var empty = Object.keys(cart).length === 0;
    if (empty) discount = null;
    var total = P.cartTotal();
    var dl = P.$('discount-line');
    dl.hidden = !discount;
    dl.textContent = discount ? P.t('discount') + ' −' + P.yuan(discount.cents) + ' · ' + P.t('approval.by', discount.by) : '';
    P.$('cart-discount').disabled = empty;
    P.$('cart-total').textContent = P.yuan(total);
    P.$('pay-cash').disabled = empty;
    P.$('pay-qr').disabled = empty || total === 0;
    P.$('pay-static').disabled = empty || total === 0;
    P.$('pay-wechatpay').disabled = empty || total === 0;
    P.$('pay-alipay').disabled = empty || total === 0;
  }
  P.clearCart = function () { cart = {}; discount = null; renderTiles(); renderCart(); };
  function lines() { return Object.keys(cart).map(function (id) { return { product_id: id, qty: cart[id] }; }); }

  // sheets
  P.sheet = function (nodes, cls) {
    var s = P.$('sheet'); s.innerHTML = ''; s.className = 'sheet ' + (cls || '');
    nodes.forEach(function (n) { if (n) s.appendChild(n); });
    P.$('overlay').hidden = false;
  };
  P.closeSheet = function () { P.$('overlay').hidden = true; P.$('sheet').innerHTML = ''; if (P.stopEvents) { P.stopEvents(); P.stopEvents = null; } };
  P.toast = function (msg) {
    var t = P.el('div', { class: 'toast', role: 'alert', text: msg });
    document.body.appendChild(t); setTimeout(function () { t.remove(); }, 3500);
  };
  function waiting(text) { return P.el('p', { class: 'waiting', id: 'sale-pending', text: text || P.t('sending') }); }

  // sell queues the sale with its Idempotency-Key; a discount goes with its
  // approval token, so the queued body replays unchanged after a reload.
  async function sell(payment, onWait) {
    var body = { location_id: P.state.stall.location_id, lines: lines(), payment: payment };
    if (discount) { body.discount = P.str(discount.cents); body.approval_token = discount.token; }
    return P.submit('POST', P.base() + '/sales', body, onWait);
  }

  // approverPicker is the "who approves" list (everyone with a PIN but the
  // signed-in person) and the approver PIN box label.
  P.approverPicker = function (id) {
    var sel = P.el('select', { id: id, 'aria-label': P.t('approval.who') });
    P.state.volunteers.filter(function (v) { return v.id !== P.state.user.id; }).forEach(function (v) {
      sel.appendChild(P.el('option', { value: v.id, text: v.display_name })); });
    return sel;
  };

  // Discount: an amount off the whole cart, approved by a second person. Their
  // PIN is exchanged for an approval token at once (a wrong PIN shows here,
  // before payment); the sale carries the token, never the PIN.
  P.discountSheet = function () {
    var typed = '', amount = P.el('div', { class: 'given', id: 'discount-amount', text: '−¥0' });
    var pad = P.el('div', { class: 'keypad money small-pad' });
    P.keypad(pad, { dot: true, prefix: 'dkey' }, function (k) { typed = P.moneyInput(typed, k); amount.textContent = '−¥' + (typed || '0'); });
    var approver = P.approverPicker('discount-approver');
    var pin = P.el('input', { type: 'password', inputmode: 'numeric', id: 'discount-pin', maxlength: '6', class: 'big-input', autocomplete: 'off',
      'aria-describedby': 'discount-pin-error' });
    var pinErr = P.el('p', { class: 'error', role: 'alert', id: 'discount-pin-error' });
    var err = P.el('p', { class: 'error', role: 'alert', id: 'discount-error' });
    var apply = P.el('button', { class: 'primary', id: 'discount-apply', text: P.t('ok') });
    apply.addEventListener('click', async function () {
      err.textContent = ''; pinErr.textContent = '';
      var c = typed ? P.cents(typed) : 0;
      if (c <= 0 || c > P.subtotal()) { err.textContent = P.t('discount.bad'); return; }
      if (!approver.value) { pinErr.textContent = P.t('approval.none'); return; }
      if (!/^[0-9]{4,6}$/.test(pin.value)) { pinErr.textContent = P.t('approval.pin.missing'); pin.focus(); return; }
      apply.disabled = true; pinErr.textContent = P.t('approval.checking');
      var name = approver.options[approver.selectedIndex].text;
      try {
        var a = await P.approve('discount', approver.value, pin.value);
        pin.value = '';
        discount = { cents: c, token: a.approval_token, by: (a.approver && a.approver.display_name) || name };
        P.closeSheet(); renderCart();
      } catch (e) {
        pin.value = ''; pinErr.textContent = e.text; apply.disabled = false; pin.focus();
      }
    });
    P.sheet([P.el('h2', { text: P.t('discount') + ' · ' + P.t('due') + ' ' + P.yuan(P.subtotal()) }), amount, pad, err,
      P.el('label', { for: 'discount-approver', text: P.t('approval.who') }), approver,
      P.el('label', { for: 'discount-pin', text: P.t('approval.pin') }), pin, pinErr,
      P.el('div', { class: 'row' }, [P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.closeSheet }), apply])], 'discount-sheet');
  };

  // Cash: keypad with quick amounts, change shown huge.
  P.cash = function () {
    if (!P.shift) { P.toast(P.t('noshift')); P.openShiftSheet(); return; }
    var total = P.cartTotal(), typed = '';
    var change = P.el('div', { class: 'change', id: 'cash-change' });
    var given = P.el('div', { class: 'given', id: 'cash-given' });
    var err = P.el('p', { class: 'error', role: 'alert', id: 'cash-error' });
    var done = P.el('button', { class: 'primary huge', id: 'cash-done', text: P.t('done') });
    function show() {
      var g = typed === '' ? total : P.cents(typed);
      given.textContent = P.t('tendered') + ' ' + P.yuan(g);
      change.textContent = g >= total ? P.t('change') + ' ' + P.yuan(g - total) : P.t('short', P.yuan(total - g));
      done.disabled = g < total;
    }
    var pad = P.el('div', { class: 'keypad money' });
    P.keypad(pad, { dot: true }, function (k) { typed = P.moneyInput(typed, k); show(); });
    var quick = P.el('div', { class: 'quick' }, [
      P.el('button', { class: 'qk', id: 'quick-exact', text: P.t('exact'), onclick: function () { typed = ''; show(); } }),
      P.el('button', { class: 'qk', id: 'quick-50', text: '¥50', onclick: function () { typed = '50'; show(); } }),
      P.el('button', { class: 'qk', id: 'quick-100', text: '¥100', onclick: function () { typed = '100'; show(); } })]);
    done.addEventListener('click', async function () {
      done.disabled = true; err.textContent = '';
      var tendered = typed === '' ? P.str(total) : P.str(P.cents(typed));
      var w = waiting(); done.after(w);
      try {
        var sale = await sell({ method: 'cash', tendered: tendered }, function () { w.textContent = P.t('retrying'); });
        P.clearCart(); P.loadCatalog(); P.loadShift();
        P.receiptSheet(sale, true);
      } catch (e) {
        w.remove(); err.textContent = P.errorText(e); done.disabled = false;
        // A used or expired approval: drop the discount so it is approved again.
        if (e.field === 'approval_token' || e.field === 'approver') { discount = null; renderCart(); }
      }
    });
    P.sheet([P.el('h2', { text: P.t('cash') + ' · ' + P.t('due') + ' ' + P.yuan(total), id: 'cash-due' }), given, change, quick, pad, err,
      P.el('div', { class: 'row' }, [P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.closeSheet }), done])], 'cash-sheet');
    show();
  };

  // QR: full-screen code, live paid tick over SSE.
  P.qr = async function (provider) {
    var total = P.cartTotal();
    var w = waiting();
    P.sheet([P.el('h2', { text: P.yuan(total) }), w], 'qr-sheet');
    var sale;
    try {
      sale = await sell({ method: 'qr', provider: provider }, function () { w.textContent = P.t('retrying'); });
    } catch (e) {
      if (e.field === 'approval_token' || e.field === 'approver') { discount = null; renderCart(); }
      P.sheet([P.el('p', { class: 'error', role: 'alert', text: P.errorText(e) }), P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.closeSheet })]);
      return;
    }
    P.clearCart(); P.loadCatalog();
    P.awaitPayment(sale);
  };
  P.awaitPayment = function (sale) {
    // A WeChat Pay or Alipay code is made after the sale (by the provider);
    // until it arrives over the event stream the sheet says so.
    var img = P.el('img', { class: 'qr-img', id: 'qr-img', alt: 'QR' });
    if (sale.payment.qr_image_url) P.authImg(img, sale.payment.qr_image_url);
    else img.style.visibility = 'hidden'; // keeps its place; no broken-image icon
    var status = P.el('p', { class: 'qr-status', id: 'qr-status', text: P.t(sale.payment.qr_image_url || sale.payment.provider === 'static' ? 'scan' : 'qr.creating') });
    var nodes = [P.el('div', { class: 'qr-amount', id: 'qr-amount', text: P.yuan(sale.total) }),
      P.el('div', { class: 'qr-meta', text: P.state.stall.name + ' · ' + sale.number }), img, status];
    if (sale.payment.provider === 'sandbox') nodes.push(P.el('p', { class: 'sim', text: P.t('simulation') }));
    var row = P.el('div', { class: 'row' }, [P.el('button', { class: 'ghost', id: 'qr-cancel', text: P.t('cancel'), onclick: async function () {
      try { await P.api('POST', P.base() + '/sales/' + sale.id + '/cancel', {}); P.closeSheet(); P.loadCatalog(); }
      catch (e) {
        // 409: the customer paid just before the cancel; the sale is paid.
        if (e.status === 409) { try { var s = await P.api('GET', P.base() + '/sales/' + sale.id); if (s.status === 'paid') { paid(s); return; } } catch (e2) { /* fall through */ } }
        P.toast(P.errorText(e));
      }
    } })]);
    if (sale.payment.provider === 'static') {
      row.appendChild(P.el('button', { class: 'primary', id: 'static-confirm', text: P.t('static.confirm'), onclick: async function () {
        try {
          var s = await P.api('POST', P.base() + '/sales/' + sale.id + '/confirm-static', {});
          if (s.held) { status.textContent = P.t('static.held', P.yuan(s.held.amount)); status.className = 'qr-status error'; return; }
          paid(s);
        } catch (e) { P.toast(P.errorText(e)); }
      } }));
    }
    nodes.push(row);
    P.sheet(nodes, 'qr-sheet full');
    var finished = false;
    function paid(s) {
      if (finished) return; finished = true;
      P.chime(); P.loadCatalog(); P.loadShift();
      P.receiptSheet(s, false);
    }
    P.stopEvents = P.events(sale.id, function (s) {
      if (s.payment && s.payment.qr_image_url && !img.dataset.shown) { img.dataset.shown = '1'; img.style.visibility = ''; P.authImg(img, s.payment.qr_image_url); status.textContent = P.t('scan'); }
      if (s.status === 'paid') paid(s);
      else if (s.status === 'expired' || s.status === 'cancelled') {
        // A WeChat Pay or Alipay code that never came: say so, not just "cancelled".
        var noCode = !img.dataset.shown && !sale.payment.qr_image_url;
        status.textContent = noCode ? P.t('qr.failed') : P.t('status.' + s.status); status.className = 'qr-status error';
      }
    });
  };

  // The receipt: paid tick, change (cash), a QR of the e-receipt, next customer.
  P.receiptSheet = function (sale, cash) {
    if (P.stopEvents) { P.stopEvents(); P.stopEvents = null; }
    var nodes = [P.el('div', { class: 'paid-tick', id: 'paid-tick', role: 'status' }, [P.el('span', { class: 'tick', text: '✔' }), P.el('span', { text: P.t('paid') })]),
      P.el('div', { class: 'paid-number', id: 'paid-number', text: sale.number + ' · ' + P.yuan(sale.total) })];
    if (cash && sale.change) nodes.push(P.el('div', { class: 'change', id: 'paid-change', text: P.t('change') + ' ' + P.yuan(sale.change) }));
    nodes.push(P.el('p', { class: 'fund-note', id: 'paid-fund', text: P.t('fund', P.yuan(sale.fund_amount)) }));
    nodes.push(P.authImg(P.el('img', { class: 'receipt-qr', id: 'receipt-qr', alt: 'receipt' }), P.base() + '/sales/' + sale.id + '/receipt-qr.svg'));
    nodes.push(P.el('p', { class: 'muted', text: P.t('receipt.scan') }));
    nodes.push(P.el('a', { class: 'muted', id: 'receipt-link', href: sale.receipt_url, target: '_blank', text: sale.receipt_url }));
    nodes.push(P.el('button', { class: 'primary huge', id: 'next-customer', text: P.t('next'), onclick: P.closeSheet }));
    P.sheet(nodes, 'receipt-sheet');
  };

  P.initSell = function () {
    P.$('pay-cash').onclick = P.cash;
    // The QR button uses the sandbox wallet; where the sandbox is off
    // (production) it is not shown, and the static 收款码 remains.
    if (P.$('app').dataset.sandbox !== 'on') P.$('pay-qr').hidden = true;
    P.$('pay-qr').onclick = function () { P.qr('sandbox'); };
    P.$('pay-static').onclick = function () { P.qr('static'); };
    P.$('pay-wechatpay').onclick = function () { P.qr('wechatpay'); };
    P.$('pay-alipay').onclick = function () { P.qr('alipay'); };
    P.$('cart-clear').onclick = P.clearCart;
    P.$('cart-discount').onclick = P.discountSheet;
  };
  // The community's real providers (set up by an admin) get their own buttons.
  P.loadProviders = async function () {
    var r = await P.api('GET', P.base() + '/pos/providers');
    ['wechatpay', 'alipay'].forEach(function (p) { P.$('pay-' + p).hidden = r.providers.indexOf(p) < 0; });
  };
})(window.POS);
