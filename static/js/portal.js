// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // A form marked data-submit-once cannot be sent twice by a double click.
  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      if (form.dataset.submitting === "true") {
        return;
      }
      form.dataset.submitting = "true";
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
        });
      }, 0);
    });
  });

  // Print buttons (the summary for the police).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });

  // Show the online-only fields (platform, links) when an online channel is chosen.
  var channel = document.getElementById("id_channel");
  if (channel) {
    var online = ["social_media", "other_online"];
    var onlineFields = ["div_id_platform", "div_id_links"]
      .map(function (id) { return document.getElementById(id); })
      .filter(Boolean);
    var update = function () {
      var show = online.indexOf(channel.value) !== -1 || onlineFields.some(function (div) {
        var input = div.querySelector("input, textarea");
        return input && input.value.trim() !== "";
      });
      onlineFields.forEach(function (div) { div.hidden = !show; });
    };
    channel.addEventListener("change", update);
    update();
  }
})();
