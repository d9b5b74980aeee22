// Auto-fitting text: scale a block's font size (in em) until its content fits its box.

const fits = (node) =>
  node.scrollHeight <= node.clientHeight + 1 && node.scrollWidth <= node.clientWidth + 1;

/** Whether `node`'s content is larger than its box. */
export const overflows = (node) => !fits(node);

/** Largest font size between min and max (em of the parent) at which `node` does not overflow. */
export function fitText(node, max = 1, min = 0.35) {
  node.style.fontSize = `${max}em`;
  if (node.clientHeight === 0 || fits(node)) return;
  let low = min;
  let high = max;
  for (let step = 0; step < 9; step += 1) {
    const middle = (low + high) / 2;
    node.style.fontSize = `${middle}em`;
    if (fits(node)) low = middle;
    else high = middle;
  }
  node.style.fontSize = `${low}em`;
}

/** Fit every `[data-fit]` block inside `root` (data-fit holds its largest size in em). */
export function fitAll(root) {
  for (const node of root.querySelectorAll("[data-fit]")) {
    fitText(node, Number(node.dataset.fit) || 1);
  }
}

/** Refit `root`'s blocks whenever `box` changes size or an image inside finishes loading. */
export function keepFitted(box, root) {
  const refit = () => fitAll(root());
  new ResizeObserver(refit).observe(box);
  box.addEventListener("load", refit, true);
  return refit;
}
