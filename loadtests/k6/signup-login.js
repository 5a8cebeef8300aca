// @ts-check
/**
 * Journey: sign up, log in, read one's own profile. Every iteration signs up and logs in from
 * this machine's IP: a smoke (5 iterations) stays inside the production limits (20 sign-ups an
 * hour, 30 log-ins per 5 min); a load run needs RATE_LIMIT_SIGNUP_PER_IP /
 * RATE_LIMIT_LOGIN_PER_IP raised (docs/loadtesting.md).
 *   k6 run -e PROFILE=smoke loadtests/k6/signup-login.js
 */
import { getProfile, logIn, signUp } from './lib/api.js';
import { scenarioFor, thresholdsFor } from './lib/config.js';
import { summaryWriter } from './lib/summary.js';
import { freshUsername } from './lib/users.js';

const ENDPOINTS = ['signup', 'login', 'profile'];

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { signup_login: scenarioFor('signupLogin', 5) },
  thresholds: thresholdsFor(ENDPOINTS),
};

export function signupLogin() {
  const username = freshUsername();
  const password = 'load-test-password';
  signUp(username, password);
  const s = logIn(username, password);
  if (s) {
    getProfile(s, s.userId);
  }
}

export default signupLogin;
export const handleSummary = summaryWriter('signup-login');
