/* Gongshi: an old issue link (issues/<bucket>/index.html#issue-<id>) goes on to the issue's own
 * page. The bucket page lists its issues as links whose id is the old anchor, so this needs no
 * table of its own and works from file:// too; without JavaScript the anchor still lands on
 * the link. */
(function () {
  "use strict";
  var name = location.hash.slice(1);
  try { name = decodeURIComponent(name); } catch (error) { /* keep it as written */ }
  var link = name && document.getElementById(name);
  if (link && link.tagName === "A" && link.href) location.replace(link.href);
})();
