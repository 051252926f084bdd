// Evidence files are checked in the browser as soon as they are chosen: the same size and
// count limits, with the same messages, as the server (which still checks everything). A
// file that is too large is taken off the field at once, so a phone never uploads 30 MB only
// to hear afterwards that it was too much. The limits and messages come from the page, in
// the page's language (data-evidence-limits, written by the server): no inline script.
(function () {
  "use strict";

  function extensionOf(name) {
    var dot = name.lastIndexOf(".");
    return dot === -1 ? "" : name.slice(dot + 1).toLowerCase();
  }

  function ruleFor(file, limits) {
    var type = (file.type || "").toLowerCase();
    var extension = extensionOf(file.name);
    for (var i = 0; i < limits.kinds.length; i += 1) {
      var kind = limits.kinds[i];
      var byType = kind.types.some(function (prefix) { return type.indexOf(prefix) === 0; });
      if (byType || kind.extensions.indexOf(extension) !== -1) {
        return kind;
      }
    }
    return limits.other;
  }

  // Which of the chosen files may be sent, and what to say about the others.
  function check(files, limits) {
    var keep = [];
    var messages = [];
    var total = 0;
    files.forEach(function (file) {
      var rule = ruleFor(file, limits);
      if (file.size > rule.max) {
        messages.push(file.name + ": " + rule.message);
      } else if (keep.length >= limits.maxFiles) {
        if (messages.indexOf(limits.tooMany) === -1) {
          messages.push(limits.tooMany);
        }
      } else if (total + file.size > limits.maxRequest) {
        if (messages.indexOf(limits.tooMuch) === -1) {
          messages.push(limits.tooMuch);
        }
      } else {
        keep.push(file);
        total += file.size;
      }
    });
    return { keep: keep, messages: messages };
  }

  function keepOnly(input, files) {
    try {
      var transfer = new DataTransfer();
      files.forEach(function (file) { transfer.items.add(file); });
      input.files = transfer.files;
    } catch (error) {
      input.value = "";  // older browsers: choose again
    }
  }

  function describedBy(input, id, add) {
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (value) {
      return value && value !== id;
    });
    if (add) {
      ids.push(id);
    }
    if (ids.length) {
      input.setAttribute("aria-describedby", ids.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  function show(input, messages, limits) {
    var id = input.id + "_browser_check";
    var box = document.getElementById(id);
    if (!messages.length) {
      if (box) {
        box.remove();
      }
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      describedBy(input, id, false);
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = id;
      box.className = "invalid-feedback d-block evidence-browser-check";
      box.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", box);
    }
    box.textContent = "";
    messages.concat([limits.notSent]).forEach(function (message) {
      var line = document.createElement("div");
      line.textContent = message;
      box.appendChild(line);
    });
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    describedBy(input, id, true);
  }

  document.querySelectorAll("input[type=file][data-evidence-limits]").forEach(function (input) {
    var limits;
    try {
      limits = JSON.parse(input.getAttribute("data-evidence-limits"));
    } catch (error) {
      return;  // the server checks anyway
    }
    input.addEventListener("change", function () {
      var result = check(Array.prototype.slice.call(input.files || []), limits);
      if (result.messages.length) {
        keepOnly(input, result.keep);
      }
      show(input, result.messages, limits);
    });
  });
})();
