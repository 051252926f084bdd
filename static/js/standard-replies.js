// "Invoegen" next to the standard replies of the desk's message form: without a round trip,
// the chosen text (in the officeholder's language, data-text on its option, written by the
// server) goes into the message box after what was typed, as the server would do it. Nothing
// is sent. Without this script the button sends the form with "insert", and the page comes
// back with the same text in the box.
(function () {
  "use strict";

  document.querySelectorAll("[data-standard-reply]").forEach(function (block) {
    var form = block.closest("form");
    var button = block.querySelector("[data-standard-reply-insert]");
    var select = block.querySelector("select");
    var status = block.querySelector("[data-standard-reply-status]");
    var box = form && form.querySelector("textarea[name='message-body']");
    if (!button || !select || !box) {
      return;
    }
    button.addEventListener("click", function (event) {
      var option = select.options[select.selectedIndex];
      var text = option && option.getAttribute("data-text");
      if (!text) {
        return; // nothing chosen: the server says so next to the list
      }
      event.preventDefault();
      var typed = box.value.replace(/\s+$/, "");
      box.value = typed ? typed + "\n\n" + text : text;
      box.focus();
      box.setSelectionRange(box.value.length, box.value.length);
      if (status) {
        status.textContent = status.getAttribute("data-inserted");
      }
    });
  });
})();
