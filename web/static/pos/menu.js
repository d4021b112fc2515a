// Shelin tablet: recent sales, refunds with a second PIN, shift open/close.
(function (P) {
  'use strict';
  function time(s) { var d = new Date(s); return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0'); }

  P.recentSheet = async function () {
    P.sheet([P.el('h2', { text: P.t('recent') }), P.el('p', { class: 'waiting', text: P.t('loading') })]);
    var d;
    try { d = await P.api('GET', P.base() + '/sales?limit=30&location_id=' + P.state.stall.location_id); }
    catch (e) { P.sheet([P.el('p', { class: 'error', text: P.errorText(e) }), P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.closeSheet })]); return; }
    var list = P.el('ul', { class: 'recent', id: 'recent-list' });
    d.items.forEach(function (s) {
      var refunded = P.cents(s.refunded_total) > 0 ? ' · ' + P.t('refunded') + ' ' + P.yuan(s.refunded_total) : '';
      list.appendChild(P.el('li', {}, [P.el('button', { class: 'recent-item', 'data-number': s.number, onclick: function () { P.saleSheet(s); } }, [
        P.el('span', { class: 'rn', text: s.number }), P.el('span', { text: time(s.created_at) }),
        P.el('span', { class: 'rs status-' + s.status, text: (s.status === 'paid' ? '✔ ' : '') + P.t('status.' + s.status) + refunded }),
        P.el('b', { text: P.yuan(s.total) })])]));
    });
    P.sheet([P.el('h2', { text: P.t('recent') }), list, P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.closeSheet })], 'list-sheet');
  };

  P.saleSheet = function (s) {
    var nodes = [P.el('h2', { text: s.number + ' · ' + P.yuan(s.total) }),
      P.el('p', { text: P.t('status.' + s.status) + ' · ' + P.t('method.' + (s.payment.provider || s.payment.method)) })];
    var ul = P.el('ul', { class: 'sale-lines' });
    s.lines.forEach(function (l) { ul.appendChild(P.el('li', { text: l.name + ' × ' + l.qty + (l.refunded_qty ? '（' + P.t('refunded') + ' ' + l.refunded_qty + '）' : '') + '  ' + P.yuan(l.amount) })); });
    nodes.push(ul);
    var row = P.el('div', { class: 'row' }, [P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.recentSheet })]);
    if (s.status === 'paid' && P.cents(s.refunded_total) < P.cents(s.total)) {
      row.appendChild(P.el('button', { class: 'danger', id: 'refund-start', text: P.t('refund'), onclick: function () { P.refundSheet(s); } }));
    }
    row.appendChild(P.el('button', { class: 'ghost', text: P.t('receipt'), onclick: function () { P.receiptSheet(s, false); } }));
    if (s.status === 'awaiting_payment') row.appendChild(P.el('button', { class: 'primary', text: P.t('showqr'), onclick: function () { P.awaitPayment(s); } }));
    nodes.push(row);
    P.sheet(nodes);
  };

  // Refund: lines and quantities, reason, restock, then a second person's PIN.
  P.refundSheet = function (s) {
    var qty = {};
    var box = P.el('div', { class: 'refund-lines' });
    s.lines.forEach(function (l) {
      var max = l.qty - l.refunded_qty; if (max <= 0) return;
      qty[l.product_id] = max;
      var n = P.el('b', { text: String(max) });
      box.appendChild(P.el('div', { class: 'cline' }, [P.el('span', { class: 'cname', text: l.name }),
        P.el('span', { class: 'cqty' }, [
          P.el('button', { class: 'qbtn', text: '−', onclick: function () { qty[l.product_id] = Math.max(0, qty[l.product_id] - 1); n.textContent = qty[l.product_id]; } }), n,
          P.el('button', { class: 'qbtn', text: '+', onclick: function () { qty[l.product_id] = Math.min(max, qty[l.product_id] + 1); n.textContent = qty[l.product_id]; } })])]));
    });
    var reason = P.el('select', { id: 'refund-reason' });
    ['damaged', 'changed_mind', 'wrong_item', 'other'].forEach(function (r) { reason.appendChild(P.el('option', { value: P.t('reason.' + r), text: P.t('reason.' + r) })); });
    var restock = P.el('input', { type: 'checkbox', id: 'refund-restock', checked: 'checked' });
    var approver = P.approverPicker('refund-approver');
    var pin = '', dots = P.el('div', { class: 'pin-dots', id: 'refund-pin-dots', 'aria-label': P.t('approval.pin') });
    var err = P.el('p', { class: 'error', role: 'alert', id: 'refund-error' });
    var pad = P.el('div', { class: 'keypad pin small-pad', id: 'refund-pad' });
    var busy = false;
    // The second person's PIN is exchanged for an approval token first (a
    // wrong PIN shows at once); the queued refund carries only the token.
    async function go() {
      if (busy) return;
      var items = Object.keys(qty).filter(function (k) { return qty[k] > 0; }).map(function (k) { return { product_id: k, qty: qty[k] }; });
      if (!items.length) { err.textContent = P.t('refund.none'); return; }
      if (!approver.value) { err.textContent = P.t('approval.none'); return; }
      if (!/^[0-9]{4,6}$/.test(pin)) { err.textContent = P.t('approval.pin.missing'); return; }
      busy = true; err.textContent = P.t('approval.checking');
      var a;
      try { a = await P.approve('refund', approver.value, pin); }
      catch (e) { busy = false; pin = ''; dots.textContent = ''; err.textContent = e.text; return; }
      pin = ''; dots.textContent = '';
      err.textContent = P.t('sending');
      try {
        var r = await P.submit('POST', P.base() + '/sales/' + s.id + '/refunds',
          { lines: items, reason: reason.value, restock: restock.checked, approval_token: a.approval_token });
        P.loadCatalog(); P.loadShift();
        P.sheet([P.el('div', { class: 'paid-tick', id: 'refund-done' }, [P.el('span', { class: 'tick', text: '✔' }), P.el('span', { text: P.t('refund.done', P.yuan(r.amount)) })]),
          P.el('p', { text: s.payment.method === 'cash' ? P.t('refund.cash', P.yuan(r.amount)) : P.t('refund.qr') }),
          P.el('button', { class: 'primary huge', text: P.t('next'), onclick: P.closeSheet })]);
      } catch (e) { busy = false; err.textContent = P.errorText(e); }
    }
    P.keypad(pad, { prefix: 'rpin' }, function (k) {
      if (k === 'del') pin = pin.slice(0, -1);
      else if (k === 'ok') { go(); return; }
      else if (pin.length < 6) pin += k;
      dots.textContent = '●'.repeat(pin.length);
    });
    P.sheet([P.el('h2', { text: P.t('refund') + ' · ' + s.number }), box,
      P.el('label', { text: P.t('refund.reason') }), reason,
      P.el('label', { class: 'check' }, [restock, ' ' + P.t('refund.restock')]),
      P.el('p', { class: 'muted', text: P.t('refund.approver') }),
      P.el('label', { for: 'refund-approver', text: P.t('approval.who') }), approver,
      P.el('label', { text: P.t('approval.pin') }), dots, pad, err,
      P.el('button', { class: 'ghost', text: P.t('back'), onclick: function () { P.saleSheet(s); } })], 'refund-sheet');
  };

  // Shift: open with a float; close with a count (the expected amount is
  // hidden on a blind shift).
  P.openShiftSheet = function () {
    var typed = '', amount = P.el('div', { class: 'given', id: 'float-amount', text: '¥0' });
    var err = P.el('p', { class: 'error', role: 'alert' });
    var pad = P.el('div', { class: 'keypad money' });
    P.keypad(pad, { dot: true }, function (k) { typed = P.moneyInput(typed, k); amount.textContent = '¥' + (typed || '0'); });
    var blind = P.el('input', { type: 'checkbox', id: 'shift-blind' });
    P.sheet([P.el('h2', { text: P.t('shift.open') }), P.el('p', { text: P.t('shift.float') }), amount, pad,
      P.el('label', { class: 'check' }, [blind, ' ' + P.t('shift.blind')]), err,
      P.el('div', { class: 'row' }, [P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.closeSheet }),
        P.el('button', { class: 'primary', id: 'shift-open-submit', text: P.t('shift.open'), onclick: async function () {
          try {
            await P.api('POST', P.base() + '/shifts', { location_id: P.state.stall.location_id, opening_float: typed || '0', blind: blind.checked });
            await P.loadShift(); P.closeSheet();
          } catch (e) { err.textContent = P.errorText(e); }
        } })])]);
  };
  P.closeShiftSheet = function () {
    if (!P.shift) { P.openShiftSheet(); return; }
    var typed = '', amount = P.el('div', { class: 'given', id: 'count-amount', text: '¥0' });
    var err = P.el('p', { class: 'error', role: 'alert' });
    var pad = P.el('div', { class: 'keypad money' });
    P.keypad(pad, { dot: true }, function (k) { typed = P.moneyInput(typed, k); amount.textContent = '¥' + (typed || '0'); });
    var info = P.drawer && !P.shift.blind ? P.t('shift.expected', P.yuan(P.drawer.expected_cash)) : P.t('shift.count');
    P.sheet([P.el('h2', { text: P.t('shift.close') }), P.el('p', { text: info }), amount, pad, err,
      P.el('div', { class: 'row' }, [P.el('button', { class: 'ghost', text: P.t('back'), onclick: P.closeSheet }),
        P.el('button', { class: 'danger', id: 'shift-close-submit', text: P.t('shift.close'), onclick: async function () {
          try {
            var r = await P.api('POST', P.base() + '/shifts/' + P.shift.id + '/close', { counted_cash: typed || '0' });
            await P.loadShift();
            P.sheet([P.el('h2', { text: P.t('shift.closed') }),
              P.el('p', { id: 'shift-result', text: P.t('shift.result', P.yuan(r.expected_cash), P.yuan(r.counted_cash), P.yuan(r.variance)) }),
              P.el('button', { class: 'primary huge', text: P.t('ok'), onclick: P.closeSheet })]);
          } catch (e) { err.textContent = P.errorText(e); }
        } })])]);
  };
})(window.POS);
