/* The lifecycle page: the vendored Mermaid draws the diagram source the server wrote in
   <pre class="lifecycle-source">, measuring the labels in the browser. No network. */
(function () {
  "use strict";
  var source = document.querySelector("pre.lifecycle-source");
  if (!source || !window.mermaid) { return; }
  var figure = source.closest("figure");
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: "neutral",
    fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    flowchart: { useMaxWidth: true }
  });
  window.mermaid.render("lifecycle-drawing", source.textContent).then(function (result) {
    var holder = document.createElement("div");
    holder.className = "lifecycle-drawing";
    holder.innerHTML = result.svg;
    var svg = holder.querySelector("svg");
    if (svg) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", figure.getAttribute("data-title") || "");
    }
    source.hidden = true;
    figure.insertBefore(holder, source);
    figure.setAttribute("data-drawn", "true");
  }).catch(function (error) {
    figure.setAttribute("data-drawn", "failed");
    if (window.console) { window.console.error(error); }
  });
})();
