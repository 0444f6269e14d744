// The bulk bar says "2 carts selected" instead of Wagtail's generic "2 snippets selected":
// Wagtail's bulk-actions script looks its words up by the footer's item type.
(function () {
  var source = document.getElementById("lockedcarts-bulk-strings");
  if (source && window.wagtailConfig && window.wagtailConfig.STRINGS) {
    window.wagtailConfig.STRINGS.BULK_ACTIONS.LOCKEDCARTS_CART = JSON.parse(source.textContent);
  }
})();
