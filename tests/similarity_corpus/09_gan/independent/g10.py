import keras
import tensorflow as tf


def discriminator_loss(logits_real, logits_fake):
    both = tf.concat([logits_real, logits_fake], axis=0)
    targets = tf.concat([tf.ones_like(logits_real), tf.zeros_like(logits_fake)], axis=0)
    per_example = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=both)
    n_real = tf.shape(logits_real)[0]
    return tf.reduce_mean(per_example[:n_real]) + tf.reduce_mean(per_example[n_real:])


def generator_loss(logits_fake):
    per_example = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_fake), logits=logits_fake)
    return tf.reduce_mean(per_example)


def _dense_net(sizes, name):
    *hidden, last = sizes[1:]
    layers = [keras.Input((sizes[0],))]
    layers += [keras.layers.Dense(units, activation="relu") for units in hidden]
    layers.append(keras.layers.Dense(last))
    return keras.Sequential(layers, name=name)


def build_generator(latent_dim, hidden_units, data_dim):
    return _dense_net([latent_dim, hidden_units, hidden_units, data_dim], "generator")


def build_discriminator(data_dim, hidden_units):
    return _dense_net([data_dim, hidden_units, hidden_units, 1], "discriminator")


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as tape:
        d_loss = discriminator_loss(discriminator(real, training=True),
                                    discriminator(generator(noise, training=True), training=True))
    step(d_optimizer, tape, d_loss, discriminator)
    with tf.GradientTape() as tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    step(g_optimizer, tape, g_loss, generator)
    return d_loss, g_loss


def step(optimizer, tape, loss, model):
    weights = model.trainable_variables
    optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
