// The gclabs book's additions to mdBook (book.toml: additional-js).
//
// A click on a figure (an SVG image in a page) opens it alone over the page, as wide as the
// window allows but never narrower than its own size, so that a figure shrunk to fit a narrow
// column can be read in full. A click anywhere, or Escape, closes it.
(function () {
    "use strict";

    function close(veil) {
        veil.remove();
        document.removeEventListener("keydown", veil.gclabsKeys);
    }

    function open(figure) {
        const veil = document.createElement("div");
        veil.className = "gclabs-figure-veil";
        veil.setAttribute("role", "dialog");
        veil.setAttribute("aria-label", figure.alt || "figure");
        const big = document.createElement("img");
        big.src = figure.src;
        big.alt = figure.alt;
        const own = figure.naturalWidth || figure.width;
        big.style.width = Math.max(own, Math.min(window.innerWidth - 48, own * 1.6)) + "px";
        const hint = document.createElement("p");
        hint.textContent = "click or press Escape to close";
        veil.append(big, hint);
        veil.addEventListener("click", () => close(veil));
        veil.gclabsKeys = (event) => {
            if (event.key === "Escape") {
                close(veil);
            }
        };
        document.addEventListener("keydown", veil.gclabsKeys);
        document.body.append(veil);
    }

    document.addEventListener("click", (event) => {
        const target = event.target;
        if (target instanceof HTMLImageElement && target.closest("main")
            && /\.svg$/.test(new URL(target.src).pathname)) {
            event.preventDefault();
            open(target);
        }
    });
})();
