// The public status page's board: a Streamlit component (components v2) that ui/status_board.py
// registers with the text of day_strip.js (the daily bars, shared with the monitor page)
// followed by this file's. Before that, it replaces __DEFAULT_WINDOW__ (the window a first
// visit shows) with its JSON value.

// The visitor's view, kept by the module (loaded once per page) rather than by the board's
// elements: a remounted board starts from what the page last heard, not from the default.
const view = { window: __DEFAULT_WINDOW__, latency: false };

// What stays while payloads come and go: the window picker and the response-time switch (so
// keyboard focus on them survives a refresh), and the tooltip.
function frame(root, windows) {
  const report = () => root.uwSetState("view", { window: view.window, latency: view.latency });
  const label = element("span", "", "Uptime over");
  label.id = "uw-window-label";
  const choices = element("div", "uw-choices");
  choices.setAttribute("role", "group");
  choices.setAttribute("aria-labelledby", label.id);
  const buttons = windows.map(([window, text]) => {
    const button = element("button", "", text);
    button.type = "button";
    button.uwWindow = window;
    button.addEventListener("click", () => {
      if (view.window === window) return;
      view.window = window;
      root.uwShowWindow();
      if (view.latency) report();  // the charts follow the window; without them, no page run
    });
    return button;
  });
  choices.append(...buttons);
  root.uwShowWindow = () => {
    for (const button of buttons)
      button.setAttribute("aria-pressed", String(button.uwWindow === view.window));
    for (const [text, uptime] of root.uwUptimes) text.textContent = uptime[view.window];
  };
  const picker = element("div", "uw-picker");
  picker.append(label, choices);
  const latency = element("input");
  latency.type = "checkbox";
  latency.checked = view.latency;
  latency.addEventListener("change", () => { view.latency = latency.checked; report(); });
  const switcher = element("label", "uw-switch");
  switcher.append(latency, document.createTextNode("Show response times (p50 / p95)"));
  const controls = element("div", "uw-controls");
  controls.append(picker, switcher);
  root.uwGroups = element("div", "uw-groups");
  root.append(controls, root.uwGroups, tooltip(root));
}

// Called with each new payload. An unchanged payload (a refresh with the same snapshot) leaves
// the board as it is; a new one keeps the visitor's window, switch and focused day. Only DOM
// calls and text properties: no markup is ever parsed.
export default function ({ data, parentElement, setStateValue }) {
  const payload = typeof data === "string" ? data : new TextDecoder().decode(data);
  let root = parentElement.querySelector(".uw-board");
  if (root === null) {
    root = element("div", "uw-board");
    parentElement.appendChild(root);
  }
  root.uwSetState = setStateValue;
  if (root.uwPayload === payload) return;
  root.uwPayload = payload;
  const board = JSON.parse(payload);
  if (root.uwGroups === undefined) frame(root, board.windows);
  const strips = () => [...root.uwGroups.querySelectorAll(".uw-days")];
  const focused = root.getRootNode().activeElement;
  const focusedAt = strips().indexOf(focused), focusedDay = focused?.uwDay;

  root.uwUptimes = [];  // [text element, the component's uptime text per window]
  const sections = document.createDocumentFragment();
  for (const group of board.groups) {
    const rows = group.rows.map((component) => ({
      ...component,
      detail: component.url ? component.state + " · " + component.url : component.state,
    }));
    const [section, uptimes] = dayGroup(root, group.name, rows);
    uptimes.forEach((text, i) => root.uwUptimes.push([text, rows[i].uptime]));
    sections.append(section);
  }
  root.uwHide();
  root.uwGroups.replaceChildren(sections);
  root.uwShowWindow();
  const refocus = strips()[focusedAt];
  if (refocus !== undefined) {
    refocus.uwDay = focusedDay;
    refocus.focus();
  }
}
