/**
 * A tiny DOM builder. Text always goes in as text nodes (never HTML), so data from webhooks
 * cannot inject markup; and no inline `style` attributes, which the page's CSP forbids.
 */
export type Child = Node | string | number | null | undefined | false | Child[];
type AttrValue = string | number | boolean | null | undefined;
export type Attrs = Record<string, AttrValue | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      el.setAttribute(name === 'className' ? 'class' : name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces an element's children, keeping keyboard focus on the "same" control when it is re-rendered. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  const focusKey = focusKeyWithin(parent);
  parent.replaceChildren();
  append(parent, children);
  if (focusKey) restoreFocus(parent, focusKey);
}

function focusKeyWithin(parent: Element): string | undefined {
  const active = document.activeElement;
  if (!active || !parent.contains(active)) return undefined;
  return active.getAttribute('data-focus') ?? (active.id || undefined);
}

function restoreFocus(parent: Element, key: string): void {
  const target = parent.querySelector<HTMLElement>(`[data-focus="${CSS.escape(key)}"]`) ?? (key ? parent.querySelector<HTMLElement>(`#${CSS.escape(key)}`) : null);
  target?.focus();
}

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** Clipboard API where allowed (https, localhost), else the selection fallback. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { readonly: true, className: 'offscreen', 'aria-hidden': 'true' }, text);
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}
