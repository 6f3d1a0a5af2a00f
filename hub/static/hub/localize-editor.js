/* wagtail-localize's translation editor (a React app) writes two English strings without
   gettext: its menus' "More actions" label and the "<source> to <target> translation"
   heading.  They are put through the JavaScript catalog (hub/locale/fr/LC_MESSAGES/
   djangojs.po, merged into wagtail-localize's own) as the editor renders them. */
(function () {
  "use strict";

  var HEADING = /^(.+) to (.+) translation$/;

  function translate(node) {
    var text = node.nodeValue;
    if (text === "More actions") {
      node.nodeValue = window.gettext("More actions");
      return;
    }
    var match = HEADING.exec(text);
    if (match) {
      node.nodeValue = window.interpolate(
        window.gettext("%(source)s to %(target)s translation"),
        { source: match[1], target: match[2] }, true);
    }
  }

  function walk(element) {
    if (element.nodeType === Node.TEXT_NODE) {
      translate(element);
      return;
    }
    var walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      translate(walker.currentNode);
    }
  }

  function start() {
    var root = document.querySelector(".js-translation-editor");
    if (!root || typeof window.gettext !== "function") {
      return;
    }
    walk(root);
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        if (mutation.type === "characterData") {
          translate(mutation.target);
        }
        mutation.addedNodes.forEach(walk);
      });
    }).observe(root, { childList: true, subtree: true, characterData: true });
  }

  // The admin loads its scripts in the page's head: wait for the editor's element.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
