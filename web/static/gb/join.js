// 社邻益购 join page: one question per step, a live countdown and total.
// Without this script every step shows at once and the form still works.
(function () {
  var root = document.getElementById('gb-join');
  if (!root) return;
  var form = document.getElementById('gb-form');
  var qty = document.getElementById('gb-qty');
  var price = parseFloat(root.dataset.price);
  function yuan(n) { return '¥' + n.toFixed(2); }
  function fmt(s, v) { return s.replace('%s', v).replace('%d', v); }
  function total() {
    var n = parseInt(qty.value, 10);
    if (!(n > 0)) n = 1;
    var t = fmt(root.dataset.total, yuan(price * n));
    document.getElementById('gb-total').textContent = t;
    var pays = document.querySelectorAll('.gb-pay');
    for (var i = 0; i < pays.length; i++) {
      pays[i].textContent = pays[i].textContent.replace(/¥[0-9.]+/, yuan(price * n));
    }
  }
  // Step 3 repeats what was chosen: the deal × quantity = total, and who.
  function summary() {
    var el = document.getElementById('gb-summary');
    var n = parseInt(qty.value, 10) || 1;
    var phone = document.getElementById('gb-phone').value.replace(/\D/g, '');
    var masked = phone.length >= 7 ? phone.slice(0, 3) + '****' + phone.slice(-4) : phone;
    el.textContent = el.dataset.title + ' × ' + n + ' = ' + yuan(price * n) + ' · ' +
      document.getElementById('gb-name').value + ' ' + masked;
  }
  function show(n) {
    var steps = form.querySelectorAll('.gb-step');
    for (var i = 0; i < steps.length; i++) steps[i].classList.toggle('on', steps[i].dataset.step === String(n));
    if (String(n) === '3') summary();
    var on = form.querySelector('.gb-step.on');
    if (on && n > 1) {
      on.scrollIntoView({ block: 'start' });
      var first = on.querySelector('input, button');
      if (first) first.focus({ preventScroll: true });
    }
  }
  if (form) {
    root.classList.add('js');
    show(parseInt(root.dataset.errstep || '1', 10) || 1);
    document.getElementById('gb-less').addEventListener('click', function () {
      var n = parseInt(qty.value, 10) || 1; if (n > 1) qty.value = n - 1; total();
    });
    document.getElementById('gb-more').addEventListener('click', function () {
      var n = parseInt(qty.value, 10) || 0; var max = parseInt(qty.max, 10) || 99;
      if (n < max) qty.value = n + 1; total();
    });
    qty.addEventListener('input', total);
    var nexts = form.querySelectorAll('[data-next]');
    for (var i = 0; i < nexts.length; i++) {
      nexts[i].addEventListener('click', function (e) { show(e.currentTarget.dataset.next); });
    }
    form.addEventListener('submit', function () {
      var b = form.querySelectorAll('.gb-pay');
      setTimeout(function () { for (var i = 0; i < b.length; i++) b[i].disabled = true; }, 0);
    });
    total();
  }
  var cd = document.getElementById('gb-countdown');
  var deadline = parseInt(root.dataset.deadline, 10) * 1000;
  function tick() {
    if (!cd) return;
    var s = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    var out = '';
    if (d) out += fmt(root.dataset.day, d);
    if (d || h) out += fmt(root.dataset.hour, h);
    out += fmt(root.dataset.min, m);
    cd.textContent = out;
  }
  tick();
  setInterval(tick, 30000);
})();
