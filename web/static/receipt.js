// The receipt's print button (inline handlers are not allowed by the CSP).
document.addEventListener('DOMContentLoaded', function () {
  var b = document.getElementById('print');
  if (b) b.addEventListener('click', function () { window.print(); });
});
