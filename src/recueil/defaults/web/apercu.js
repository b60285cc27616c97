// Live preview: follow the server's events and swap page images in place (the scroll stays).
(function () {
  "use strict";
  var root = document.querySelector(".preview");
  if (!root || !window.EventSource) { return; }
  var base = root.dataset.base;
  var thumbnails = root.querySelector(".preview-pages").classList.contains("thumbnails");
  var list = root.querySelector(".preview-pages");
  var problems = root.querySelector(".preview-problems");
  var outdated = root.querySelector(".preview-outdated");
  var count = root.querySelector(".preview-count");
  root.querySelector(".preview-live").hidden = false;

  function pageItem(number, print) {
    var item = document.createElement("li");
    item.id = "page-" + number;
    var image = document.createElement("img");
    image.alt = "Page " + number;
    image.width = thumbnails ? 180 : 620;
    image.height = thumbnails ? 255 : 877;
    image.src = imageUrl(number, print);
    item.appendChild(image);
    return item;
  }

  // a page's image is named by its fingerprint: pages an edit left alone are not fetched again
  function imageUrl(number, print) {
    return base + "/page-" + number + ".png?v=" + print + (thumbnails ? "&taille=vignette" : "");
  }

  function show(state) {
    if (state.version && state.version !== root.dataset.version) {
      var items = list.querySelectorAll("li");
      for (var i = 0; i < state.pages; i++) {
        // an existing page keeps its box while its new image loads: the scroll does not move
        var item = i < items.length ? items[i] : list.appendChild(pageItem(i + 1, state.prints[i]));
        var image = item.querySelector("img");
        var url = imageUrl(i + 1, state.prints[i]);
        if (image.getAttribute("src") !== url) { image.src = url; }
        item.className = thumbnails && state.changed.indexOf(i + 1) >= 0 &&
          state.changed.length < state.pages ? "changed" : "";
      }
      for (var j = items.length - 1; j >= state.pages; j--) { list.removeChild(items[j]); }
      root.dataset.version = state.version;
      root.dataset.pages = state.pages;
      count.textContent = state.pages + (state.pages === 1 ? " page" : " pages");
    }
    list.classList.toggle("outdated", !!state.outdated);
    outdated.hidden = !state.outdated;
    var ul = problems.querySelector("ul");
    ul.textContent = "";
    state.problems.forEach(function (problem) {
      var li = document.createElement("li");
      li.className = problem.level || "error";
      var code = document.createElement("code");
      code.textContent = problem.text || problem.message;
      li.appendChild(code);
      ul.appendChild(li);
    });
    problems.hidden = state.problems.length === 0;
    root.dataset.updated = String(Date.now());
  }

  var source = new EventSource(root.dataset.events);
  source.onmessage = function (event) { show(JSON.parse(event.data)); };
})();
