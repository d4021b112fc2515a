// A join waiting for its payment reloads itself until the money arrives.
(function () {
  var root = document.getElementById('gb-mine');
  if (!root || root.dataset.poll !== 'true') return;
  var api = root.dataset.poll && location.pathname.replace(/^\/g\//, '/api/v1/groupbuys/').replace('/j/', '/joins/');
  var tries = 0;
  function check() {
    tries++;
    fetch(api, { headers: { Accept: 'application/json' } }).then(function (r) { return r.json(); }).then(function (j) {
      if (j.status && j.status !== root.dataset.status) { location.reload(); return; }
      if (tries < 200) setTimeout(check, tries < 20 ? 2000 : 10000);
    }).catch(function () { if (tries < 200) setTimeout(check, 10000); });
  }
  setTimeout(check, 2000);
})();
