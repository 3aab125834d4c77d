// The public status page's board: a Streamlit component (components v2) that ui/status_board.py
// registers with this file's text. Before that, it replaces __COLORS__ (the colour of each day's
// category, from readmodel/board_payload) and __DEFAULT_WINDOW__ (the window a first visit shows)
// with their JSON values.

// The visitor's view, kept by the module (loaded once per page) rather than by the board's
// elements: a remounted board starts from what the page last heard, not from the default.
const view = { window: __DEFAULT_WINDOW__, latency: false };
const colors = __COLORS__;  // by category digit

const element = (tag, className, text) => {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
};

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
  root.uwTip = element("div", "uw-tip");
  root.uwMark = element("div", "uw-hl");
  root.uwTip.hidden = root.uwMark.hidden = true;
  root.uwTip.setAttribute("aria-hidden", "true");  // a strip's value text says the same
  root.append(controls, root.uwGroups, root.uwTip);
  // A tap elsewhere hides the tooltip (a touch leaves no pointer behind to move away).
  root.addEventListener("pointerdown", (event) => {
    if (!event.target.classList.contains("uw-days")) root.uwHide();
  });
  root.uwHide = () => { root.uwTip.hidden = root.uwMark.hidden = true; };
}

// The tooltip of day `i` of a strip (0 = 90 days ago).
function show(root, strip, i) {
  const n = strip.dataset.days.length, tip = root.uwTip, mark = root.uwMark;
  i = Math.max(0, Math.min(n - 1, i));
  strip.uwDay = i;
  strip.setAttribute("aria-valuenow", i);
  strip.setAttribute("aria-valuetext", strip.uwTitles[i]);
  mark.style.left = (100 * i / n) + "%";
  mark.style.width = "calc(" + (100 / n) + "% - var(--uw-gap))";
  strip.appendChild(mark);
  tip.textContent = strip.uwTitles[i];
  tip.hidden = mark.hidden = false;
  const box = root.getBoundingClientRect(), day = strip.getBoundingClientRect();
  const x = day.left - box.left + day.width * (i + 0.5) / n;
  const left = Math.min(box.width - tip.offsetWidth, x - tip.offsetWidth / 2);
  tip.style.left = Math.max(0, left) + "px";
  tip.style.top = (day.bottom - box.top + 4) + "px";
}

const KEYS = { ArrowLeft: -1, ArrowRight: 1, Home: -Infinity, End: Infinity };

// One tab stop per group: its strips share it, and the up and down arrows move between them
// (on the same day), so the keyboard does not step through a hundred strips to pass the board.
function groupStrips(strip) {
  return [...strip.closest(".uw-group").querySelectorAll(".uw-days")];
}
function takeTabStop(strip) {
  for (const other of groupStrips(strip)) other.tabIndex = other === strip ? 0 : -1;
}

function strip(root, { name, days, titles }) {
  const made = element("div", "uw-days");
  // One band per run of days of the same colour (the mask cuts each into days).
  const width = 100 / days.length, bands = [];
  for (let i = 0, end; i < days.length; i = end) {
    for (end = i + 1; end < days.length && days[end] === days[i];) end++;
    bands.push(colors[days[i]] + " " + (i * width) + "% " + (end * width) + "%");
  }
  made.style.backgroundImage = "linear-gradient(to right," + bands.join(",") + ")";
  made.style.setProperty("--uw-n", days.length);
  made.dataset.days = days;
  made.uwTitles = titles;
  made.tabIndex = -1;  // the group's first strip gets its tab stop
  // A slider over the days for a screen reader: each day's text is its value.
  made.setAttribute("role", "slider");
  made.setAttribute("aria-label", name + ": uptime of each of the last " + days.length + " days");
  made.setAttribute("aria-valuemin", 0);
  made.setAttribute("aria-valuemax", days.length - 1);
  const dayAt = (event) => {
    const box = made.getBoundingClientRect();
    return Math.floor((event.clientX - box.left) / box.width * days.length);
  };
  made.addEventListener("pointermove", (event) => show(root, made, dayAt(event)));
  made.addEventListener("pointerdown", (event) => show(root, made, dayAt(event)));
  // Only a mouse leaving hides it: a finger lifted after a tap leaves the day shown.
  made.addEventListener("pointerleave", (event) => {
    if (event.pointerType === "mouse") root.uwHide();
  });
  made.addEventListener("focus", () => {
    takeTabStop(made);
    show(root, made, made.uwDay ?? days.length - 1);
  });
  made.addEventListener("blur", () => root.uwHide());
  made.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { root.uwHide(); return; }
    const move = { ArrowUp: -1, ArrowDown: 1 }[event.key];
    if (move !== undefined) {
      const strips = groupStrips(made), next = strips[strips.indexOf(made) + move];
      event.preventDefault();
      if (next !== undefined) {
        next.uwDay = made.uwDay;
        next.focus();
      }
      return;
    }
    const step = KEYS[event.key];
    if (step === undefined) return;
    event.preventDefault();
    show(root, made, (made.uwDay ?? days.length - 1) + step);
  });
  return made;
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
    const section = element("section", "uw-group");
    if (group.name) section.append(element("h3", "", group.name));
    for (const component of group.rows) {
      const row = element("div", "uw-row");
      const info = element("div", "uw-info");
      const name = element("div", "uw-name", component.name);
      name.title = component.name;
      const detail = component.url ? component.state + " · " + component.url : component.state;
      info.append(name, element("div", "uw-detail", detail));
      const uptime = element("div", "uw-uptime");
      root.uwUptimes.push([uptime, component.uptime]);
      row.append(info, strip(root, component), uptime);
      section.append(row);
    }
    const first = section.querySelector(".uw-days");
    if (first !== null) first.tabIndex = 0;
    const axis = element("div", "uw-axis"), ends = element("div");
    ends.append(element("span", "", "90 days ago"), element("span", "", "today"));
    axis.append(ends);
    section.append(axis);
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
