// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // The menu on a phone (templates/base.html): folded behind the "Menu" button, which says
  // whether it is open. The CSS shows the button below 768 px only.
  var menuToggle = document.querySelector(".menu-toggle");
  if (menuToggle) {
    var menu = document.getElementById(menuToggle.getAttribute("aria-controls"));
    menuToggle.hidden = false;
    menuToggle.closest("header").classList.add("menu-folds");
    menuToggle.addEventListener("click", function () {
      var open = menu.classList.toggle("is-open");
      menuToggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

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

  // The error summary at the top of a form (templates/portal/partials/error_summary.html):
  // focused when the page loads, so a screen reader reads it first; each link moves the focus
  // to its question and shows the question's label (a fragment link alone scrolls, not focuses).
  var summaries = document.querySelectorAll("[data-error-summary]");
  if (summaries.length) {
    summaries[0].focus();
    Array.prototype.forEach.call(summaries, function (summary) {
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a[href^='#']");
        if (!link) {
          return;
        }
        var input = document.getElementById(decodeURIComponent(link.hash.slice(1)));
        if (!input) {
          return;
        }
        event.preventDefault();
        var folded = input.closest("details");
        if (folded) {
          folded.open = true;
        }
        var question = input.closest("fieldset") || input.closest("[id^='div_id_']") || input;
        question.scrollIntoView();
        input.focus({ preventScroll: true });
      });
    });
  }

  // Enter in a checkbox or radio list does not send a half-empty form (in a text field it
  // still does, as people expect).
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && target.matches && target.matches("input[type=checkbox], input[type=radio]")) {
      event.preventDefault();
    }
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
  // Ask for a phone number only when the person wants to be called (quick report).
  var phoneField = document.getElementById("div_id_contact_phone");
  var unsafe = document.querySelectorAll("input[name=unsafe_or_call]");
  if (phoneField && unsafe.length) {
    var showPhone = function () {
      var yes = document.querySelector("input[name=unsafe_or_call][value=ja]");
      var input = phoneField.querySelector("input");
      phoneField.hidden = !(yes && yes.checked) && !(input && input.value.trim() !== "");
    };
    Array.prototype.forEach.call(unsafe, function (radio) {
      radio.addEventListener("change", showPhone);
    });
    showPhone();
  }

  // A form that was sent after the session had ended comes back filled in after logging in
  // (portal/kept_forms.py puts what was typed in a JSON block on the page, once).
  var keptBlock = document.getElementById("kept-form");
  if (keptBlock) {
    var kept = JSON.parse(keptBlock.textContent);
    var target = Array.prototype.find.call(document.forms, function (form) {
      return new URL(form.action, window.location.href).pathname === kept.action;
    });
    if (target) {
      Array.prototype.forEach.call(target.elements, function (element) {
        var name = element.name;
        if (!name || element.type === "file" || name === "csrfmiddlewaretoken") {
          return;
        }
        var values = kept.fields[name] || [];
        if (element.type === "checkbox" || element.type === "radio") {
          element.checked = values.indexOf(element.value) !== -1;
        } else if (element.tagName === "SELECT") {
          Array.prototype.forEach.call(element.options, function (option) {
            option.selected = values.indexOf(option.value) !== -1;
          });
        } else if (element.tagName === "INPUT" || element.tagName === "TEXTAREA") {
          var same = target.querySelectorAll('[name="' + CSS.escape(name) + '"]');
          var index = Array.prototype.indexOf.call(same, element);
          if (index < values.length) {
            element.value = values[index];
          }
        } else {
          return;
        }
        element.dispatchEvent(new Event("change", { bubbles: true }));
      });
      var folded = target.closest("details");
      if (folded) {
        folded.open = true;
      }
    }
  }

  // Staff: a warning a few minutes before the session ends for being idle, with
  // "Ingelogd blijven" (which starts the idle time again without leaving the page).
  var idleWarning = document.getElementById("idle-warning");
  if (idleWarning) {
    var timeout = Number(idleWarning.dataset.timeout) * 1000;
    var warnBefore = Number(idleWarning.dataset.warning) * 1000;
    var lastActive = Date.now();
    var keepForm = idleWarning.querySelector("form");
    window.setInterval(function () {
      if (idleWarning.hidden && Date.now() - lastActive >= timeout - warnBefore) {
        idleWarning.hidden = false;
        idleWarning.querySelector("button").focus();
      }
    }, 5000);
    keepForm.addEventListener("submit", function (event) {
      event.preventDefault();
      window.fetch(keepForm.action, {
        method: "POST",
        body: new FormData(keepForm),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        redirect: "manual"
      }).then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
        if (!response.ok || !json) {
          keepForm.submit();
          return;
        }
        lastActive = Date.now();
        idleWarning.hidden = true;
      }).catch(function () {
        keepForm.submit();
      });
    });
  }
  // The queue's "choose all on this page" box (templates/incidents/desk/queue.html): ticks or
  // clears every row, and shows "some" when only part of the rows is ticked.
  document.querySelectorAll("[data-pick-all]").forEach(function (wrapper) {
    var all = wrapper.querySelector("input[type=checkbox]");
    var rows = wrapper.closest("form").querySelectorAll("input[name=bulk-incidents]");
    wrapper.hidden = false;
    function update() {
      var ticked = Array.prototype.filter.call(rows, function (row) {
        return row.checked;
      }).length;
      all.checked = ticked === rows.length;
      all.indeterminate = ticked > 0 && ticked < rows.length;
    }
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(rows, function (row) {
        row.checked = all.checked;
      });
      update();
    });
    Array.prototype.forEach.call(rows, function (row) {
      row.addEventListener("change", update);
    });
    update();
  });
})();
