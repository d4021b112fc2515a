// Shelin tablet: big numeric keypads (PIN and money).
(function (P) {
  'use strict';
  // keypad fills box with digit keys and calls onKey('0'..'9', '.', 'del', 'ok').
  P.keypad = function (box, opts, onKey) {
    box.innerHTML = '';
    var keys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', opts.dot ? '.' : 'del', '0', opts.dot ? 'del' : 'ok'];
    keys.forEach(function (k) {
      var label = k === 'del' ? '⌫' : k === 'ok' ? P.t('ok') : k;
      box.appendChild(P.el('button', { class: 'key' + (k === 'ok' ? ' key-ok' : ''), 'data-key': k, id: (opts.prefix || 'key') + '-' + (k === '.' ? 'dot' : k), text: label,
        onclick: function () { onKey(k); } }));
    });
  };
  // moneyInput keeps a typed amount as a string with at most two decimals.
  P.moneyInput = function (cur, k) {
    if (k === 'del') return cur.slice(0, -1);
    if (k === '.') return cur.indexOf('.') >= 0 ? cur : (cur || '0') + '.';
    var dot = cur.indexOf('.');
    if (dot >= 0 && cur.length - dot > 2) return cur;
    if (cur === '0') return k;
    return (cur + k).slice(0, 9);
  };
})(window.POS);
