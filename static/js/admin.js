// The Django admin's additions for WCAG 2.1 AA (issue 22).
// A tabular inline scrolls sideways on a narrow screen. A keyboard user can only scroll what
// takes focus, so each such table becomes a named region in the tab order.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll('.inline-group[data-inline-type="tabular"]').forEach(function (group) {
    const heading = group.querySelector(".inline-heading");
    group.setAttribute("tabindex", "0");
    group.setAttribute("role", "region");
    if (heading && heading.id) {
      group.setAttribute("aria-labelledby", heading.id);
    }
  });
});
