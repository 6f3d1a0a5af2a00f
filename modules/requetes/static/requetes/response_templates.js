/* Response templates in the admin: choosing a template puts its text in the message
   textarea of the same form, where the agent edits it.  Without this script the form
   still works: the server uses the template's text when the message is left empty. */
(function () {
  "use strict";
  var source = document.getElementById("requetes-template-texts");
  if (!source) { return; }
  var texts = JSON.parse(source.textContent);
  Array.prototype.forEach.call(
    document.querySelectorAll("select[name='response_template']"), function (select) {
      var textarea = select.form && select.form.querySelector("textarea[name='public_message']");
      if (!textarea) { return; }
      var filled = "";
      select.addEventListener("change", function () {
        var text = texts[select.value];
        if (!text) { return; }
        /* Replace only what a template put there, never what the agent wrote. */
        if (!textarea.value.trim() || textarea.value === filled) {
          textarea.value = text;
          filled = text;
          textarea.focus();
        }
      });
    });
})();
