/* Review vendor match: says what approval will change as the person picks per field (no inline script: CSP). */
(function () {
  var form = document.getElementById("ml-approve-form");
  function update() {
    ["gp", "bill"].forEach(function (side) {
      var said = [];
      form.querySelectorAll('input[type=radio][data-side="' + side + '"]:checked').forEach(function (r) { said.push(r.dataset.effect); });
      document.getElementById("ml-effect-" + side).textContent = said.length ? said.join("; ") : "nothing changes";
    });
    var left = [];
    form.querySelectorAll("tr.ml-differs").forEach(function (tr) {
      var picked = tr.querySelector("input[type=radio]:checked");
      if (!picked || !picked.value) { left.push(tr.dataset.label); }
    });
    var leftSpan = document.getElementById("ml-effect-left");
    if (leftSpan) { leftSpan.textContent = left.length ? left.join(", ") : "nothing"; }
  }
  form.addEventListener("change", update);
  update();
})();
