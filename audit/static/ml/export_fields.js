/* Export page: "Select all" ticks or clears every field box (replaces import-export's inline onchange: CSP). */
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input.ml-select-all").forEach(function (toggle) {
    toggle.addEventListener("change", function () {
      document.querySelectorAll('.selectable-field-export-row input[type="checkbox"]').forEach(function (box) {
        box.checked = toggle.checked;
      });
    });
  });
});
