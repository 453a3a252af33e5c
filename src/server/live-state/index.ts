export { LiveStateHub, type LiveStateOptions } from "./live-state-hub.js";
